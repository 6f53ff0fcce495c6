"""Writes a run's results folder and prints its summary table."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.core.errors import UserError
from harness.core.records import MetricValue, RunResult
from harness.core.testpoint import pause

INCOMPLETE = "INCOMPLETE"


def new_output_dir(results_dir: str, task: str, model: str) -> Path:
    """results/<task>/<model>/<UTC timestamp>[-n]/, never reusing a folder.

    The folder starts with an INCOMPLETE marker file that `mark_complete`
    removes as the run's very last step, so the folder of a run that was
    killed or failed while writing results never passes for a finished one.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    base = Path(results_dir) / task / model
    for n in range(1000):
        folder = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            base.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:  # results_dir is a file, read-only, on a full disk, ...
            raise UserError(
                f"cannot create a results folder under {base} (results_dir={results_dir}): {exc.strerror or exc}; "
                "the answers are cached, fix results_dir and re-run"
            ) from None
        (folder / INCOMPLETE).write_text(
            f"run by process {os.getpid()} did not finish (killed or failed); do not use these results\n",
            encoding="utf-8",
        )
        return folder
    raise RuntimeError(f"cannot create a new results folder under {base}")


def mark_complete(folder: Path) -> None:
    """The run's last step: its results folder is whole."""
    (folder / INCOMPLETE).unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        pause("report.write")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _fmt(mv: MetricValue) -> tuple[str, str]:
    ci = f"[{mv.ci_low:.4f}, {mv.ci_high:.4f}]" if mv.ci_low is not None and mv.ci_high is not None else ""
    return f"{mv.value:.4f}", ci


def print_summary(result: RunResult, primary: str, extra: Mapping[str, float]) -> None:
    """A rich table of metrics with CIs, then where the results went."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    table = Table(title=f"{result.task} × {result.model}  (n={len(result.examples)})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    for name, mv in sorted(result.metrics.items(), key=lambda kv: (kv[0] != primary, kv[0])):
        value, ci = _fmt(mv)
        table.add_row(f"[bold]{name}[/bold]" if name == primary else name, value, ci)
    for name in ("error_rate", "prompt_tokens_mean", "output_tokens_mean", "latency_s_p50", "cost_usd_per_1k"):
        if name in result.counters:
            table.add_row(f"[dim]{name}[/dim]", f"{result.counters[name]:.4g}", "")
    console.print(table)
    for label, seconds in extra.items():
        console.print(f"[dim]{label}: {seconds:.2f}[/dim]")
    console.print(f"results: {result.output_dir}")
    if result.mlflow_run_id:
        console.print(f"mlflow run: {result.mlflow_run_id}")
