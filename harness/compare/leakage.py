"""Verdicts on the clean subset beside the verdicts on all items, and the `CAUTION: leakage` they raise.

Each evaluation run that had a training side carries the leakage audit's
per-item flags (`leakage.any` in predictions.jsonl) and its shares
(`leakage.*` metrics). The clean subset is the items no compared run flagged
(with one candidate: unflagged in both runs). The comparison is repeated on
it with the same rules; the report says `CAUTION: leakage` when any compared
run's flagged share exceeds `leakage_threshold` or a verdict changes between
all items and the clean subset. A tuned variant whose tuning data is unknown
is named as such (no CAUTION by itself: nothing was measured).
"""

from __future__ import annotations

import dataclasses
import html as html_lib
from collections.abc import Sequence
from dataclasses import dataclass

from harness.compare import runs as rn
from harness.compare.comparison import Comparison, compare_runs
from harness.compare.report import insert_after_verdict

CAUTION = "CAUTION: leakage"


@dataclass(frozen=True)
class CleanVerdict:
    """One candidate: its verdict on all items and on the clean subset."""

    label: str
    verdict_all: str
    verdict_clean: str | None  # None: too few clean items to compare (fewer than 2)
    delta_all: float
    delta_clean: float | None
    n_all: int
    n_clean: int


@dataclass(frozen=True)
class LeakageView:
    """What the comparison says about leakage."""

    audited: bool  # some compared run carries audit flags
    shares: tuple[tuple[str, float], ...]  # (run label, leakage.any) of every audited run
    verdicts: tuple[CleanVerdict, ...]
    threshold: float
    unknown: tuple[str, ...] = ()  # labels of tuned runs whose tuning data is unknown

    @property
    def reasons(self) -> tuple[str, ...]:
        out = [f"{label}: {share:.1%} of test items flagged (> {self.threshold:.0%})"
               for label, share in self.shares if share > self.threshold]
        out += [f"{v.label}: verdict on all items ({v.verdict_all}) differs on the clean subset "
                f"({v.verdict_clean or 'not comparable'}, n_clean={v.n_clean})"
                for v in self.verdicts if v.verdict_clean != v.verdict_all]
        return tuple(out)

    @property
    def caution(self) -> bool:
        return bool(self.reasons)

    def console_lines(self) -> list[str]:
        lines = [f"{CAUTION}: " + "; ".join(self.reasons)] if self.caution else []
        for v in self.verdicts:
            clean = f"{v.verdict_clean} ({v.delta_clean:+.4f})" if v.verdict_clean and v.delta_clean is not None \
                else "not comparable"
            lines.append(f"  {v.label}: all items {v.verdict_all} ({v.delta_all:+.4f}, n={v.n_all}); "
                         f"clean subset {clean}, n_clean={v.n_clean}")
        lines += [f"  leakage audit: tuning data unknown for {label}" for label in self.unknown]
        return lines


def clean_ids(runs: Sequence[rn.RunData]) -> tuple[str, ...] | None:
    """Ids no audited run flagged; None when no run was audited."""
    audited = [r for r in runs if any(row.leaked is not None for row in r.rows)]
    if not audited:
        return None
    flagged = {row.id for r in audited for row in r.rows if row.leaked}
    return tuple(sorted({row.id for row in runs[0].rows} - flagged))


def _only(run: rn.RunData, ids: set[str]) -> rn.RunData:
    return dataclasses.replace(run, rows=tuple(r for r in run.rows if r.id in ids))


def view(comp: Comparison, threshold: float, metrics: Sequence[str] | None = None) -> LeakageView:
    """The clean-subset verdicts of a finished comparison (same rules, same metrics)."""
    runs = [comp.baseline, *(c.run for c in comp.candidates)]
    unknown = tuple(r.label for r in runs if "tuning" in r.tag("leakage.unknown").split(","))
    ids = clean_ids(runs)
    if ids is None:
        return LeakageView(False, (), (), threshold, unknown)
    shares = tuple((r.label, r.metrics["leakage.any"]) for r in runs if "leakage.any" in r.metrics)
    keep = set(ids)
    clean: Comparison | None = None
    if len(keep) >= 2:
        clean = compare_runs(_only(comp.baseline, keep), [_only(c.run, keep) for c in comp.candidates],
                             comp.primary, comp.rules, comp.tuning_cost_usd, metrics)
    verdicts = []
    for i, c in enumerate(comp.candidates):
        mc = c.metric(comp.primary)
        cc = clean.candidates[i] if clean else None
        verdicts.append(CleanVerdict(
            c.run.label, c.verdict.value, cc.verdict.value if cc else None, mc.delta.estimate,
            cc.metric(comp.primary).delta.estimate if cc else None, mc.n, len(keep),
        ))
    return LeakageView(True, shares, tuple(verdicts), threshold, unknown)


def markdown(lv: LeakageView) -> str:
    if not lv.audited and not lv.unknown:
        return ""
    out = ["## Leakage", ""]
    if lv.caution:
        out += [f"**{CAUTION}**: " + "; ".join(lv.reasons), ""]
    if lv.audited:
        out += ["| run | flagged share |", "|---|---|", *(f"| {lbl} | {s:.1%} |" for lbl, s in lv.shares), ""]
        out += ["| candidate | verdict (all items) | verdict (clean subset) | n | n_clean |", "|---|---|---|---|---|"]
        out += [f"| {v.label} | {v.verdict_all} ({v.delta_all:+.4f}) | "
                f"{v.verdict_clean or 'not comparable'}"
                f"{f' ({v.delta_clean:+.4f})' if v.delta_clean is not None else ''} | {v.n_all} | {v.n_clean} |"
                for v in lv.verdicts]
        out.append("")
    out += [f"Tuning data unknown (no model.tuning_data) for {lbl}: overlap with it was not measured." for lbl in
            lv.unknown]
    return "\n".join(out) + "\n"


def with_markdown(report_md: str, lv: LeakageView) -> str:
    """The report with the leakage section after its verdict line (and the CAUTION in front of the verdict)."""
    section = markdown(lv)
    if not section:
        return report_md
    if lv.caution:
        report_md = report_md.replace("**Verdict:**", f"**{CAUTION}.** **Verdict:**", 1)
    marker = "\n## "
    at = report_md.find(marker)
    return report_md + "\n" + section if at < 0 else report_md[: at + 1] + section + "\n" + report_md[at + 1 :]


def with_html(report_html: str, lv: LeakageView) -> str:
    """The HTML report with the same section after its headline."""
    section = markdown(lv)
    if not section:
        return report_html
    rows = []
    for line in section.splitlines():
        if line.startswith("|---") or not line.strip():
            continue
        if line.startswith("|"):
            cells = "".join(f"<td>{html_lib.escape(c.strip())}</td>" for c in line.strip("|").split("|"))
            rows.append(f"<tr>{cells}</tr>")
        elif line.startswith("## "):
            rows.append(f"</table><h2>{html_lib.escape(line[3:])}</h2><table>")
        else:
            rows.append(f"</table><p><b>{html_lib.escape(line.replace('**', ''))}</b></p><table>")
    block = f'<div class="leakage"><table>{"".join(rows)}</table></div>'
    return insert_after_verdict(report_html, block)


def log_tags(run_id: str, tracking_uri: str | None, lv: LeakageView) -> None:
    """MLflow tags on the comparison run: harness.compare.caution=leakage and the clean-subset verdicts."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    if lv.caution:
        client.set_tag(run_id, "harness.compare.caution", "leakage")
        client.set_tag(run_id, "harness.compare.caution_reasons", "; ".join(lv.reasons)[:5000])
    if lv.verdicts:
        client.set_tag(run_id, "harness.compare.verdict_clean",
                       "; ".join(f"{v.label}={v.verdict_clean or 'not comparable'}" for v in lv.verdicts))
    if lv.unknown:
        client.set_tag(run_id, "harness.compare.leakage_unknown", ",".join(lv.unknown))
