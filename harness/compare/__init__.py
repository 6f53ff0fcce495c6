"""Paired comparison of evaluation runs: did tuning pay off?

stats       pure paired statistics (bootstrap, McNemar, paired t, Wilcoxon, Holm, MDE)
verdict     per-metric comparisons and the verdict rules
runs        finding runs in MLflow and aligning their examples
comparison  `compare_runs`: runs in, verdicts out (pure)
report      Markdown and self-contained HTML reports
api         `run_compare`, the plain function behind `python -m harness.compare`
May import: core, config.
"""
