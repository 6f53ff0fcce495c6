"""MLflow: one run per evaluation (params, metrics, per-example table, artifacts).

recorder   `Tracker` (start, log, finish), store locking, reaping runs whose process died
May import: core, config.
"""
