"""The pointwise judge's prompt and scale: settings from `task.judge`, the template, reply parsing.

The prompt puts everything every item shares first (instructions, rubric,
scale) and the item's own text last, so a backend that reuses a shared
prefix (Gemini context caching, `model.context_cache=true` on the judge
model; a local KV cache) can serve the rubric once for the whole batch.

A reply is valid when it starts with one of the scale's grades (case
ignored, after optional markup and a `Grade:` label), or failing that when
it contains `Grade: <grade>`; anything else is unparsable. The rest of the
reply is the rationale.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.errors import ConfigError

# Jinja2: {{ rubric }}, {{ grades }} (list, worst first), {{ guided }} (reference shown), then per item
# {{ input }}, {{ reference }} ('' when reference-free or none), {{ output }}, {{ sample }} (the Sample)
BUILTIN_TEMPLATE = """You are a strict grader of a model's output. Grade the output against the rubric\
{% if guided %} and the reference answer{% endif %}; judge its content, not its length or style.

Rubric: {{ rubric }}

Scale, worst to best: {{ grades | join(", ") }}.
Reply with the grade alone on the first line, then one line "Rationale: <why>".

[Input]
{{ input }}
{% if guided and reference %}
[Reference answer]
{{ reference }}
{% endif %}
[Output to grade]
{{ output }}

Grade:"""

_MARKUP = re.compile(r"^[\s\*\[\(\"'`#>_-]*(?:grade\s*[:=]?\s*)?[\s\*\[\(\"'`]*", re.IGNORECASE)
_RATIONALE = re.compile(r"^[\s\*\]\)\"'`.:;,/\-–—]*(?:\d+\s*)?(?:rationale\s*[:=-]?\s*)?", re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    """One output to grade, with what the judge may see of its example."""

    id: str
    input: str
    output: str
    reference: str = ""
    sample: Any = None  # the Sample, for custom templates that need more fields


@dataclass(frozen=True)
class Parsed:
    """A reply read against the scale."""

    grade: str  # as spelled in the scale
    rationale: str


@dataclass(frozen=True)
class Rubric:
    """Everything a pointwise judgement needs besides the model: template, scale, reference use."""

    template: str  # the template text
    source: str  # where it came from: 'built-in' or the file path
    rubric: str
    grades: tuple[str, ...]  # worst first
    guided: bool  # reference-guided
    retries: int

    @property
    def template_hash(self) -> str:
        """Content hash of what shapes the judge prompt (template, rubric, scale): 16 hex digits of SHA-256."""
        text = "\x00".join([self.template, self.rubric, *self.grades, str(self.guided)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def value(self, grade: str) -> float:
        """The grade's score in [0, 1]: its position on the scale, worst 0, best 1."""
        return self.grades.index(grade) / (len(self.grades) - 1)

    def render(self, item: Item) -> str:
        import jinja2

        try:
            env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
            return env.from_string(self.template).render(
                rubric=self.rubric, grades=list(self.grades), guided=self.guided, input=item.input,
                output=item.output, reference=item.reference if self.guided else "", sample=item.sample,
            ).strip()
        except jinja2.TemplateError as exc:
            raise ConfigError(f"judge template {self.source} does not render: {type(exc).__name__}: {exc}") from None

    def parse(self, reply: str) -> Parsed | None:
        """The grade and rationale of a reply, or None when it names no grade of the scale."""
        start = _MARKUP.match(reply)
        rest = reply[start.end():] if start else reply
        grade = self._grade_at(rest)
        if grade is None:  # 'The answer is right. Grade: pass'
            m = re.search(r"grade\s*[:=]\s*[\*\[\(\"'`]*", reply, re.IGNORECASE)
            if m is None:
                return None
            rest = reply[m.end():]
            grade = self._grade_at(rest)
            if grade is None:
                return None
            before = reply[: m.start()].strip()
            after = _RATIONALE.sub("", rest[len(grade):], count=1).strip()
            return Parsed(grade, " ".join(x for x in (before, after) if x))
        return Parsed(grade, _RATIONALE.sub("", rest[len(grade):], count=1).strip())

    def _grade_at(self, text: str) -> str | None:
        low = text.lower()
        for grade in sorted(self.grades, key=len, reverse=True):  # '10' before '1'
            g = grade.lower()
            after = low[len(g):]
            # a whole grade: not 'passable', and not '4.5' on a 1-5 scale (a number off the scale; '4.0' is 4)
            if low.startswith(g) and not (after[:1].isalnum() or re.match(r"[.,]0*[1-9]", after)):
                return grade
        return None


def check_grades(grades: Sequence[str], where: str = "task.judge.grades") -> tuple[str, ...]:
    """The scale as a tuple; no grades, one grade, blank or repeated grades are ConfigErrors."""
    out = tuple(str(g).strip() for g in grades)
    if not out:
        raise ConfigError(f"{where} is empty: a judge needs a scale, e.g. [fail, pass] or ['1','2','3','4','5']")
    if len(out) < 2:
        raise ConfigError(f"{where} has one grade ({out[0]!r}): a scale needs at least two")
    if any(not g for g in out):
        raise ConfigError(f"{where} has a blank grade")
    lowered = [g.lower() for g in out]
    dup = sorted({g for g in lowered if lowered.count(g) > 1})
    if dup:
        raise ConfigError(f"{where} names {dup[0]!r} twice (grades are compared without case)")
    return out


def from_task(task: Any) -> Rubric:
    """The Rubric of `task.judge`; the template file (if any) read from the task's assets folder.

    Checks the scale, and renders the template once on a placeholder item, so a
    template that does not render fails here, before any model work.
    """
    jc = task.judge
    grades = check_grades(jc.grades)
    if jc.retries < 0:
        raise ConfigError(f"task.judge.retries must be >= 0, got {jc.retries}")
    template, source = BUILTIN_TEMPLATE, "built-in"
    if jc.template:
        from harness.data.prompts import assets_dir

        path = assets_dir(task) / jc.template
        try:
            template = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"judge template not found: {path} (task.judge.template): {exc.strerror}") from None
        source = str(path)
    rubric = Rubric(template, source, str(jc.rubric), grades, bool(jc.reference), int(jc.retries))
    rubric.render(Item("placeholder", "input", "output", "reference"))
    return rubric
