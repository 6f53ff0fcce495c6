"""Paired comparison of evaluation runs: did tuning pay off?

stats     pure paired statistics (bootstrap, McNemar, Wilcoxon, Holm, MDE)
verdict   per-metric comparisons and the verdict rules
runs      finding runs in MLflow and aligning their examples
report    Markdown and self-contained HTML reports
api       `compare()`, the plain function behind `python -m harness.compare`
"""
