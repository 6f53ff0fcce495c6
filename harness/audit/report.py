"""What the audit prints: the warning a run shows, and the table `python -m harness.audit` shows."""

from __future__ import annotations

from collections.abc import Mapping

from harness.audit.audit import METHODS, AuditResult, ItemFlags


def _clip(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def pair_line(flag: ItemFlags, test_text: str) -> str:
    return (f"  [{flag.match_method}] test {flag.id}: {_clip(test_text)!r}\n"
            f"      ~ {flag.match_source} {flag.match_id}: {_clip(flag.match_text or '')!r}")


def warning(result: AuditResult, test_texts: Mapping[str, str], warn_at: float) -> str | None:
    """The console warning when the share of flagged test items exceeds warn_at, with three example pairs."""
    s = result.summary()
    if s["leakage.any"] <= warn_at:
        return None
    n = len(result.items)
    parts = ", ".join(f"{k} {s[f'leakage.{k}']:.1%}" for k in METHODS)
    lines = [
        f"WARNING: leakage: {s['leakage.any']:.1%} of test items ({int(s['leakage.any.count'])}/{n}) overlap the "
        f"training side ({parts}; audit.warn_at={warn_at:.0%}); metrics on the unflagged items end in .clean",
    ]
    lines += [pair_line(f, test_texts.get(f.id, "")) for f in result.examples(3)]
    return "\n".join(lines)


def unknown_note(result: AuditResult) -> str | None:
    if not result.unknown:
        return None
    return ("note: leakage audit: the tuning data of this tuned variant is unknown (no model.tuning_data); "
            "overlap with it was not measured")


def print_table(result: AuditResult, test_texts: Mapping[str, str], examples: int = 5) -> None:
    """The audit alone: sources, one row per method (count, share), and example pairs."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for src in result.sources:
        what = f"{src.n_items} items, fingerprint {src.fingerprint}" if src.status == "audited" else "unknown"
        console.print(f"source {src.name}: {src.location or '-'} ({what})")
    s = result.summary()
    table = Table(title=f"leakage audit (n={len(result.items)}{', cached' if result.cached else ''})")
    table.add_column("method")
    table.add_column("flagged", justify="right")
    table.add_column("share", justify="right")
    for k in (*METHODS, "any"):
        table.add_row(k, str(int(s[f"leakage.{k}.count"])), f"{s[f'leakage.{k}']:.1%}")
    console.print(table)
    flagged = result.examples(examples)
    if flagged:
        ex = Table(title="examples (test item ~ training item)")
        for col in ("method", "test", "test text", "match", "training text"):
            ex.add_column(col)
        for f in flagged:
            match = f"{f.match_source}:{f.match_id}"
            test = _clip(test_texts.get(f.id, ""), 50)
            ex.add_row(f.match_method or "", f.id, test, match, _clip(f.match_text or "", 50))
        console.print(ex)
    note = unknown_note(result)
    if note:
        console.print(note)
