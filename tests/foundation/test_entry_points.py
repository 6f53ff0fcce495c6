"""`--help` and a bad override on every entry point, found by walking the package.

An entry point is a package with a `__main__.py` or a module with an
`if __name__ == "__main__":` guard; a new one joins this test without editing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli

GUARD = 'if __name__ == "__main__":'


def entry_points() -> list[str]:
    found: set[str] = set()
    for path in (ROOT / "harness").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if path.name == "__main__.py":
            found.add(".".join(parts[:-1]))
        elif GUARD in path.read_text(encoding="utf-8"):
            found.add(".".join(parts))
    return sorted(found)


def test_the_known_entry_points_are_found() -> None:
    assert {"harness", "harness.compare", "harness.gate", "harness.tune", "harness.tune.gemini", "harness.curve",
            "harness.demo", "harness.sync"} <= set(entry_points())


def _usage_line(module: str, text: str) -> bool:
    return any(ln.lower().startswith("usage:") or f"python -m {module} " in ln for ln in text.splitlines())


@pytest.mark.parametrize("module", entry_points())
def test_help_exits_0_with_a_usage_line(module: str, tmp_path: Path) -> None:
    proc = run_cli(["--help"], cwd=tmp_path, module=module, timeout=120)  # from any folder, not only the clone
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _usage_line(module, proc.stdout), proc.stdout[:500]
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("module", entry_points())
def test_a_bad_override_is_one_line_with_exit_2(module: str, tmp_path: Path) -> None:
    bad = "limit=[1" if module == "harness.demo" else "task.limit=[1"
    proc = run_cli([bad], cwd=tmp_path, module=module, timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"{module}: error:"), proc.stderr[-2000:]
    assert "override" in errors[0]


def test_help_into_a_closed_pipe_is_not_an_error() -> None:
    """`python -m harness --help | head -1`: the reader stops early; no BrokenPipeError traceback."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "harness", "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes: its first write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_entry_points_read_artifacts_without_progress_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    # every entry point goes through run_entry; a user's own setting wins
    import os

    from harness.core.entry import run_entry

    seen: list[str | None] = []

    def body(args: list[str]) -> int:
        seen.append(os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"))
        return 0

    monkeypatch.delenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", raising=False)
    assert run_entry("harness.x", "help", body, []) == 0
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "true")
    assert run_entry("harness.x", "help", body, []) == 0
    assert seen == ["false", "true"]


def test_entry_points_collect_garbage_less_often_and_give_the_caller_its_setting_back() -> None:
    import gc

    from harness.core.entry import GC_GEN0, run_entry
    from harness.core.errors import UserError

    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []

    def body(args: list[str]) -> int:
        during.append(gc.get_threshold())
        raise UserError("bad")  # the setting comes back on the error path too

    assert run_entry("harness.x", "help", body, []) == 2
    assert during == [(max(GC_GEN0, before[0]), before[1], before[2])]
    assert gc.get_threshold() == before
