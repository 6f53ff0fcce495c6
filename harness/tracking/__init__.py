"""MLflow: one run per evaluation, and what MLflow 3's GenAI views read from it.

recorder        `Tracker` (start, log, finish), store locking, reaping runs whose process died
writes          a run's core MLflow writes as records (apply now, or journal and replay later)
journal         the writes a lost tracking server did not take, on disk in order (results/.mlflow-pending/)
pending         replays journals when the server is back (`python -m harness.sync`), nothing twice
genai           the runner's one call: dataset input, prompt version, traces (best effort, reported)
traces          one trace per example (model and score spans) with its scores as assessments, in one batch
prompts         task templates in the Prompt Registry (a new version only when the content changes)
datasets        register a task's test split as an evaluation dataset (`python -m harness.tracking.datasets`)
pointers        artifacts pointing at big things (a tuned adapter: path, hash, files)
mlflow_scorers  the per-example scorers as `mlflow.genai` scorers for `mlflow.genai.evaluate`
May import: core, config, data, scorers.
"""
