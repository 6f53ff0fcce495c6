"""Code tasks: the language table, program assembly and pass@k.

Nothing here runs code; `harness.sandbox` does, and only it.
"""
