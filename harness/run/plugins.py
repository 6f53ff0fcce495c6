"""Imports the modules that register kinds, scorers and backends: ours, then other packages'.

Registration happens at import of these modules (decorators); nothing here
imports a heavy library: backends import torch, google-genai, ... inside
their `load`, so `python -m harness --help` stays fast.
"""

from __future__ import annotations

import importlib

from harness.core import extensions

PLUGIN_MODULES: tuple[str, ...] = (
    "harness.kinds.classification",
    "harness.scorers.classification",
    "harness.backends.hf.backend",
    "harness.kinds.summarization",
    "harness.scorers.summarization",
    "harness.kinds.json_output",
    "harness.scorers.json_output",
    "harness.backends.replay",
    "harness.backends.gemini.client",
    "harness.backends.openai_compat",
    "harness.kinds.code",
    "harness.scorers.code",
    "harness.judge.pointwise",  # the `judge` scorer (a model as grader); the judge package sits above run
)

_loaded = False


def load_plugins() -> None:
    """The built-in modules, then other packages' entry points (harness.kinds, .scorers, .backends)."""
    global _loaded
    if _loaded:
        return
    for name in PLUGIN_MODULES:
        importlib.import_module(name)
    for group in (extensions.KINDS, extensions.SCORERS, extensions.BACKENDS):  # after: a taken name fails there
        extensions.load_group(group)
    _loaded = True
