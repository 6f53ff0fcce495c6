"""Model-graded evaluation: a model of the harness as a judge, and the judge's own quality measured.

model        `open_judge(name)` -> `JudgeModel`: any model config (conf/model/), asked through the run
             loop's response cache, retry loop, backend concurrency and cost accounting
rubric       the pointwise judge's settings (`task.judge`), scale, prompt template and reply parsing
pointwise    the `judge` scorer: one grade, rationale and raw reply per example (`task.scorers: [judge]`)
agreement    accuracy and Cohen's kappa of judge grades against known grades, with bootstrap CIs
check        `python -m harness.judge_check`: the judge on outputs whose correctness is known, or on a
             human-labelled calibration file (calibration); check_config its typed config and result,
             check_report the console table, judge_check.json and the MLflow run
pairwise     the side-by-side judge (both orders, position consistency, length bias) for harness.compare
May import: core, config, data, backends, scorers, tracking, run (generation, cache, retry, aggregate).
The run loop reaches the `judge` scorer only through the scorer registry (harness.run.plugins), never
by importing this package.
"""
