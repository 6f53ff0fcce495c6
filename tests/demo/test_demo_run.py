"""The demonstration end to end at a tiny size: every step runs for real on the embedded Gemma.

2 test items, 1 shot, LoRA on 2 train items with a rank-2 adapter: the numbers mean nothing,
the test checks that the five steps run and that the console shows what the README promises
(verdicts, the flipped examples, per-step times, reports with the examples behind the verdict).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.demo import DemoConfig, parse, run_demo


def test_defaults_are_the_real_data_demo() -> None:
    cfg = parse([])
    assert (cfg.task, cfg.model, cfg.shots, cfg.limit) == ("banking77_demo", "gemma3_270m", 3, None)
    assert isinstance(cfg, DemoConfig)


@pytest.mark.slow
def test_demo_runs_end_to_end_at_a_tiny_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # results/ and the response cache land here
    monkeypatch.setenv("HARNESS_CONFIG_PATH", str(tmp_path / "conf"))  # where the tuned variant's config goes
    (tmp_path / "conf" / "model").mkdir(parents=True)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tune = ["max_train_examples=2", "batch_size=2", "lora.rank=2", "'lora.target_modules=[q_proj]'",
            f"conf_dir={tmp_path / 'conf'}", f"adapters_dir={tmp_path / 'adapters'}"]  # fmt: skip
    cfg = parse(["limit=2", "shots=1", "tuned_name=demo_tiny_lora", f"tune=[{','.join(tune)}]",
                 f"run=[tracking.uri={uri}]", "min_n=1"])  # fmt: skip
    assert run_demo(cfg) == 0
    out = capsys.readouterr().out
    assert "demo_tiny_lora (lora)" in out and " vs gemma3_270m 1-shot (base)" in out
    assert "steps: base zero-shot" in out and "compare" in out.split("steps:")[1]
    assert "all flipped items:" in out
    # the tuned candidate pays its own tuning run's cost; the 3-shot prompt is charged nothing
    assert out.count(", tuning run ") >= 2  # in both comparisons, beside the tuned candidate's break-even
    summaries = [json.loads(p.read_text(encoding="utf-8")) for p in
                 sorted((tmp_path / "results" / "compare").glob("*/comparison.json"))]  # fmt: skip
    costs = {c["label"].split(" [")[0]: (c["tuning_cost_usd"], c["tuning_cost_source"])
             for s in summaries for c in s["candidates"]}  # fmt: skip
    assert costs["gemma3_270m 1-shot (base)"] == (0.0, "config")
    tuned = costs["demo_tiny_lora (lora)"]
    assert tuned[0] > 0 and tuned[1].startswith("tuning run ")
    # the verdicts on all items and on the clean subset, as `python -m harness.compare` prints them
    assert out.count("clean subset") >= 3 and "all items" in out
    reports = sorted((tmp_path / "results" / "compare").glob("*/report.md"))
    assert len(reports) == 2 and all("## Flipped examples" in r.read_text(encoding="utf-8") for r in reports)


def test_leakage_table_shows_each_run_and_says_when_one_was_not_audited(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.core.records import MetricValue, RunResult

    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    from harness.demo import _print_leakage

    audited = RunResult("t", "m", {"accuracy": MetricValue(0.5), "accuracy.clean": MetricValue(0.4)}, (),
                        {"leakage.exact": 0.0, "leakage.ngram": 0.05, "leakage.near": 0.0, "leakage.template": 0.1,
                         "leakage.any": 0.125, "n_clean": 70.0}, "", "fp")  # fmt: skip
    bare = RunResult("t", "m2", {"accuracy": MetricValue(0.6)}, (), {}, "", "fp")
    _print_leakage([("base 0-shot", audited), ("tuned 0-shot", bare)], "accuracy")
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "base 0-shot" in x)
    for cell in ("0.0%", "5.0%", "10.0%", "12.5%", "70", "0.5000", "0.4000"):
        assert cell in line, (cell, line)
    assert "not audited" in next(x for x in out.splitlines() if "tuned 0-shot" in x)
