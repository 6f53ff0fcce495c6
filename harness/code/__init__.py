"""Code tasks: the language table, program assembly, pass@k, and the sandbox.

sandbox    the only place model-written code runs (unprivileged uid, limits, no network)
languages  per-language build/run commands; assemble: prompt + completion + tests -> program
passk      the unbiased pass@k estimator
May import: core.
"""
