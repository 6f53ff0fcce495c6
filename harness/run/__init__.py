"""The run loop behind `python -m harness`: samples -> requests -> cache/backend -> scorers -> results.

runner      the one orchestrator (`evaluate(RunConfig)`)
generation  chunks of requests through the response cache and the retry loop
cache       the response cache (SQLite); retry: the one retry loop
aggregate   per-example scores to metrics with bootstrap CIs
results     results/<task>/<model>/<timestamp>/ files and the console summary
plugins     imports the modules that register kinds, scorers and backends
cli, hydra_app   the entry point: preflight every sweep cell, then Hydra
sweep       a multirun as one MLflow parent run with the cells as its children
May import: core, config, data, backends, kinds, scorers, tracking.
"""
