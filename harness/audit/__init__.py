"""The leakage audit: how much of a test split the training side already contains.

Owns text normalisation (`normalise`), the four overlap methods and their
indexes (`methods`: exact, word n-gram, MinHash/LSH near-duplicate, masked
template), the audit records and the run of all methods over the training-side
sources of a run (`audit`), where those sources come from (`sources`: the
task's train split / few-shot pool and `model.tuning_data`), the result cache
(`cache`), the console report (`report`) and `python -m harness.audit` (`cli`).

May import: harness.core, harness.config, harness.data (and numpy, datasketch).
Docs: docs/audit.md.
"""
