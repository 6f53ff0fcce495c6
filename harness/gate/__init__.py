"""Release gating in CI: checks on a finished run, JUnit XML and a Markdown summary.

config   typed schema of conf/gate/*.yaml and the CLI's root config
checks   metric floors/ceilings and paired non-inferiority against a baseline
report   JUnit XML and Markdown ($GITHUB_STEP_SUMMARY)
cli      exit codes: 0 pass, 1 a check failed, 2 bad config or missing run
"""
