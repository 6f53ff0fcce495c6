"""An evaluation-first benchmarking harness for LLMs and their tuned variants.

Packages, from the bottom layer up (a package imports only those above it in this list):

core       records, errors, registry, paths, entry-point plumbing
config     typed structured configs, Hydra registration, one-line config errors
data       task samples (local files, Hub) and Jinja2 prompts
audit      leakage audit: test items against the training side (exact, n-gram, near, template)
backends   the narrow backend contract: hf (+peft, embedded Gemma), gemini, openai_compat, replay
kinds      task kinds (classification, summarization, json, code): samples -> requests
scorers    pure per-example scorers, registered by name
code       HumanEval-X languages, program assembly, pass@k, and the sandbox
tracking   MLflow runs
run        the run loop behind `python -m harness`
judge      model-graded evaluation: the `judge` scorer, judge models, `python -m harness.judge_check`, pairwise
sync       replays MLflow writes runs kept on disk while the tracking server was down
tune       local PEFT tuning and Gemini tuning jobs (`python -m harness.tune`)
compare    paired statistics and verdicts (`python -m harness.compare`)
gate       release gates for CI (`python -m harness.gate`)
curve      learning curves: how many examples until tuning pays off (`python -m harness.curve`)
methods    tuning methods side by side in one comparison (`python -m harness.methods`)
demo       the main job (`./dev run`)
"""

__version__ = "0.1.0"
