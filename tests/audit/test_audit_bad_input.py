"""Bad audit input: one line naming the key, exit 2, no traceback (issue 11, Bad input)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.audit.cli import main as audit_main
from harness.core.paths import ROOT
from tests.helpers import assert_one_line_error, run_cli

LEAKY = ROOT / "tests" / "fixtures" / "leaky_classification"


def _audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = audit_main(list(args))
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("audit.ngram=0", "audit.ngram must be at least 1"),
        ("audit.near_threshold=1.5", "audit.near_threshold must be in (0, 1]"),
        ("audit.near_threshold=0", "audit.near_threshold must be in (0, 1]"),
        ("model.tuning_data=/nowhere/train.jsonl", "model.tuning_data=/nowhere/train.jsonl: file not found"),
    ],
)
def test_bad_settings_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, override: str,
                                   needle: str) -> None:
    code, err = _audit(capsys, "task=classification", "model=gemma3_270m_lora", override, f"results_dir={tmp_path}")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness.audit: error: ") and needle in lines[0], err


def test_unreadable_tuning_data_names_the_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "tuning.jsonl"
    bad.write_text('{"text": "fine"}\n{not json\n')
    code, err = _audit(capsys, "task=classification", "model=gemma3_270m_lora", f"model.tuning_data={bad}",
                       f"results_dir={tmp_path}")
    assert code == 2 and err.count("\n") == 1 and "model.tuning_data" in err and "Traceback" not in err


def test_tuning_data_is_audited(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # the variant was tuned on the leaky train split; the task's own (regenerated) train split is clean
    code = audit_main(["task=classification", "model=gemma3_270m_lora", f"model.tuning_data={LEAKY / 'train.jsonl'}",
                       f"task.data.path={LEAKY / 'test.jsonl'}", f"results_dir={tmp_path}"])
    out = capsys.readouterr().out
    assert code == 0
    assert "source tuning:" in out and "template" in out and "tuning:train-" in out


def test_run_entry_point_refuses_bad_audit_setting(tmp_path: Path) -> None:
    proc = run_cli(["task=classification", "model=replay", "model.path=x.jsonl", "audit.ngram=0",
                    f"results_dir={tmp_path}"])
    assert_one_line_error(proc, "audit.ngram")
