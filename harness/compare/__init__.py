"""Paired comparison of evaluation runs: did tuning pay off?

stats       pure paired statistics (bootstrap, McNemar, paired t, Wilcoxon, Holm, MDE)
verdict     per-metric comparisons and the verdict rules
runs        finding runs in MLflow and aligning their examples
comparison  `compare_runs`: runs in, verdicts out (pure)
report      Markdown and self-contained HTML reports
examples    the items that flipped (both ways) and the relative change of each metric
export      `export=`: the candidate's failures in its tuning format (the data flywheel)
judged      `judge=pairwise`: a side-by-side judge's win rate as one more paired metric, its quality
judge_report  the judge's console lines, report sections, comparison.json entry, MLflow tags
api         `run_compare`, the plain function behind `python -m harness.compare`
May import: core, config (export also data and backends.gemini.tuning, for the tuning formats;
judged also judge, whose models go through run's cache and retry loop).
"""
