"""Tuning: local PEFT adapters on a task's train split, and Gemini tuning jobs.

local    `tune(TuneConfig)`: train an adapter, write conf/model/<name>.yaml, log an MLflow run
methods  the PEFT methods (lora, qlora, ia3, prefix, prompt): typed settings, checks, peft configs
data     a task's train split as (prompt, completion) pairs and token batches
cli      `python -m harness.tune`
gemini   `python -m harness.tune.gemini`: export a train split, start a Vertex AI tuning job
The Gemini job API itself lives with the Gemini backend (harness.backends.gemini.tuning).
May import: core, config, data, backends, tracking, run.results.
"""
