"""Scorer libraries are imported in the background while the model generates."""

from __future__ import annotations

import subprocess
import sys

from harness.scorers import base


def test_preload_imports_a_scorers_libraries_in_a_fresh_interpreter() -> None:
    code = (
        "import sys\n"
        "from harness.scorers import summarization\n"
        "from harness.scorers.base import preload\n"
        "assert 'rouge_score.rouge_scorer' not in sys.modules and 'sacrebleu' not in sys.modules\n"
        "t = preload(['rouge', 'bleu', 'no_such_scorer'])\n"
        "assert t is not None and t.name == 'harness-preload'\n"
        "t.join()\n"
        "assert 'rouge_score.rouge_scorer' in sys.modules and 'sacrebleu' in sys.modules\n"
        "assert preload(['rouge']) is None  # nothing left to import\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_missing_library_is_left_to_the_scorer() -> None:
    base.PRELOAD["test-only"] = ("harness_no_such_module_xyz",)
    try:
        thread = base.preload(["test-only"])
        assert thread is not None
        thread.join()  # no exception escapes the thread; the scorer's own import will raise
        assert "harness_no_such_module_xyz" not in sys.modules
    finally:
        del base.PRELOAD["test-only"]
