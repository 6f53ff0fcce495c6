"""The examples behind a verdict: which items flipped, and the relative change of every metric.

An item *flips* when its score on the primary metric differs between the
baseline and the candidate: for a 0/1 metric (accuracy, pass@1) a right answer
turned wrong or the reverse; for a continuous one (ROUGE) any change, the
largest first. `flips()` pairs the two runs' predictions by id and sorts each
direction by the size of the change (ties by id, so the order is stable); the
report shows the top `TOP` each way, `write_jsonl` keeps them all.

Relative change is (candidate - baseline) / baseline of a metric's mean, the
figure Google's Gemini tuning tutorial reports for ROUGE-L precision; it is
undefined (None) when the baseline mean is 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.compare.comparison import CandidateResult, Comparison
from harness.compare.runs import ExampleRow, RunData

TOP = 20  # flipped items per direction in the Markdown/HTML report
FLIPS_FILE = "flips.jsonl"
_CELL = 300  # characters of a text shown in a report cell (the JSONL keeps it whole)


@dataclass(frozen=True)
class Flip:
    """One item whose primary score changed between baseline and candidate."""

    candidate: str  # the candidate's run id
    id: str
    metric: str
    baseline_score: float
    candidate_score: float
    input: str
    reference: str
    baseline_output: str
    candidate_output: str

    @property
    def change(self) -> float:
        return self.candidate_score - self.baseline_score

    def to_row(self) -> dict[str, object]:
        return {**asdict(self), "change": self.change, "direction": "better" if self.change > 0 else "worse"}


@dataclass(frozen=True)
class Flips:
    """A candidate's flipped items, each direction sorted by the size of the change (largest first)."""

    candidate: CandidateResult
    better: tuple[Flip, ...]
    worse: tuple[Flip, ...]


def _score(row: ExampleRow, metric: str) -> float:
    # the same rule as runs.align: a score missing on an example (it errored) or NaN counts as 0
    value = row.scores.get(metric, 0.0)
    return 0.0 if math.isnan(value) else value


def flips(baseline: RunData, candidate: RunData, metric: str) -> tuple[tuple[Flip, ...], tuple[Flip, ...]]:
    """(better, worse): the items whose `metric` rose / fell from baseline to candidate.

    Only ids both runs have are paired (the comparison itself refuses runs with different ids).
    """
    cand = {r.id: r for r in candidate.rows}
    out = []
    for b in baseline.rows:
        c = cand.get(b.id)
        if c is None:
            continue
        sb, sc = _score(b, metric), _score(c, metric)
        if sb != sc:
            out.append(Flip(candidate.run_id, b.id, metric, sb, sc, b.input or c.input,
                            b.reference or c.reference, b.output, c.output))
    better = sorted((f for f in out if f.change > 0), key=lambda f: (-f.change, f.id))
    worse = sorted((f for f in out if f.change < 0), key=lambda f: (f.change, f.id))
    return tuple(better), tuple(worse)


def all_flips(comp: Comparison) -> list[Flips]:
    """Flipped items of every candidate against the baseline, on the primary metric."""
    result = []
    for c in comp.candidates:
        better, worse = flips(comp.baseline, c.run, comp.primary)
        result.append(Flips(c, better, worse))
    return result


def write_jsonl(path: Path, groups: Iterable[Flips]) -> int:
    """Every flipped item, one JSON object per line (better ones first, then worse); returns the count."""
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for g in groups:
            for f in (*g.better, *g.worse):
                fh.write(json.dumps(f.to_row(), ensure_ascii=False) + "\n")
                n += 1
    return n


def relative_change(baseline_mean: float, candidate_mean: float) -> float | None:
    """(candidate - baseline) / baseline; None when the baseline is 0 (or either is NaN).

    Divided by |baseline|, so that a rise reads positive for a metric that can be negative too.
    """
    if baseline_mean == 0 or math.isnan(baseline_mean) or math.isnan(candidate_mean):
        return None
    return (candidate_mean - baseline_mean) / abs(baseline_mean)


def format_relative(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


RELATIVE_HEADER = ["candidate", "metric", "baseline", "candidate mean", "relative change"]
FLIP_HEADER = ["id", "change", "baseline score", "candidate score", "input", "reference",
               "baseline output", "candidate output"]  # fmt: skip


def relative_rows(comp: Comparison) -> list[list[str]]:
    """One row per candidate and metric: both means and the relative change."""
    rows = []
    for c in comp.candidates:
        for mc in c.metrics:
            rel = relative_change(mc.baseline_mean, mc.candidate_mean)
            name = mc.metric + (" (primary)" if mc.metric == comp.primary else "")
            means = [f"{mc.baseline_mean:.4f}", f"{mc.candidate_mean:.4f}"]
            rows.append([c.run.label, name, *means, format_relative(rel)])
    return rows


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def flip_rows(items: Sequence[Flip], top: int = TOP) -> list[list[str]]:
    return [
        [f.id, f"{f.change:+.4f}", f"{f.baseline_score:.4f}", f"{f.candidate_score:.4f}",
         _cell(f.input), _cell(f.reference), _cell(f.baseline_output), _cell(f.candidate_output)]
        for f in items[:top]
    ]  # fmt: skip


def _md_escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown(comp: Comparison, groups: Sequence[Flips] | None = None) -> str:
    """The 'Relative change' and 'Flipped examples' sections of the Markdown report."""
    groups = all_flips(comp) if groups is None else groups
    out = ["## Relative change", "", "(candidate - baseline) / baseline of each metric's mean.", "",
           _md_table(RELATIVE_HEADER, relative_rows(comp)), "", "## Flipped examples", ""]  # fmt: skip
    for g in groups:
        for title, items in (("better", g.better), ("worse", g.worse)):
            shown = min(len(items), TOP)
            out += [f"### {g.candidate.run.label}: {len(items)} {title} on {comp.primary} "
                    f"(top {shown} by change; all in {FLIPS_FILE})", ""]  # fmt: skip
            out += [_md_table(FLIP_HEADER, flip_rows(items)) if items else "None.", ""]
    return "\n".join(out) + "\n"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def html_tables(comp: Comparison, groups: Sequence[Flips] | None = None) -> list[dict[str, object]]:
    """The same sections as tables ({title, header, rows}) for the HTML report's template."""
    groups = all_flips(comp) if groups is None else groups
    tables: list[dict[str, object]] = [
        {"title": "Relative change (candidate - baseline) / baseline", "header": RELATIVE_HEADER,
         "rows": relative_rows(comp)}
    ]  # fmt: skip
    for g in groups:
        for title, items in (("better", g.better), ("worse", g.worse)):
            tables.append({
                "title": f"Flipped examples, {g.candidate.run.label}: {len(items)} {title} on {comp.primary} "
                         f"(top {min(len(items), TOP)}; all in {FLIPS_FILE})",
                "header": FLIP_HEADER, "rows": flip_rows(items),
            })  # fmt: skip
    return tables
