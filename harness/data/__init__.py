"""Samples in: task data from local files or the Hub, and prompts out of Jinja2 templates.

samples    load a task's test/train splits into `Sample` records, fingerprint them
prompts    render a task's prompt (zero- and few-shot) from its template
mlflow_dataset   `task.data.path=mlflow-dataset:<name>`: rows of a registered MLflow evaluation dataset
May import: core, config.
"""
