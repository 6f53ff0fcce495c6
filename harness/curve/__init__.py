"""Learning curves: how many labelled examples until tuning pays off (`python -m harness.curve`).

config    CurveConfig, the schema of conf/curve.yaml
crossing  pure: per-size paired verdicts against a prompting baseline -> the crossing point and its sentence
plot      the PNG: quality with CIs against the number of training examples, base bands
run       `run_curve(cfg)`: tune on nested subsets, evaluate, compare, plot, log one parent MLflow run
cli       `python -m harness.curve`
May import: core, config, data, backends, tracking, run, tune, compare.
"""
