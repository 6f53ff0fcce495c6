"""A scripted judge behind the local Gemini server: it answers pointwise judge prompts by a rule.

The rule sees the output to grade, the reference shown (None when reference-free)
and how many times this exact prompt was asked before; anything that is not a
pointwise judge prompt (the model under test, if it runs on the server) is echoed.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tests.fakes import gemini_server
from tests.fakes.gemini_server import FakeGemini

_OUTPUT = re.compile(r"\[Output to grade\]\n(.*)\n\nGrade:$", re.S)
_REF = re.compile(r"\[Reference answer\]\n(.*?)\n\n\[Output to grade\]", re.S)

Rule = Callable[[str, "str | None", int], str]  # (output, reference, times asked before) -> reply


def fair(output: str, reference: str | None, asked: int) -> str:
    ok = reference is not None and output.strip() == reference.strip()
    return "pass\nRationale: it matches the reference" if ok else "fail\nRationale: it differs from the reference"


def always_pass(output: str, reference: str | None, asked: int) -> str:
    return "pass\nRationale: looks fine to me"


@dataclass
class ScriptedJudge(FakeGemini):
    """The fake Gemini server with a judge rule; `asked` counts each judge prompt's requests."""

    rule: Rule = fair
    asked: Counter[str] = field(default_factory=Counter)

    def reply_text(self, prompt: str) -> str:
        m = _OUTPUT.search(prompt)
        if not m:
            return f"echo: {prompt}"
        ref = _REF.search(prompt)
        with self._lock:
            before = self.asked[prompt]
            self.asked[prompt] += 1
        return self.rule(m.group(1), ref.group(1) if ref else None, before)

    def judge_calls(self) -> int:
        return sum(self.asked.values())


@contextlib.contextmanager
def serve_judge(rule: Rule = fair) -> Iterator[ScriptedJudge]:
    """The scripted server on a free local port, stopped on leaving the block."""
    state, server = gemini_server.start(ScriptedJudge(rule=rule))
    try:
        yield state  # type: ignore[misc]
    finally:
        gemini_server.stop(server)
