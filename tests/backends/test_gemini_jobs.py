"""Gemini Batch API and tuning jobs through the real SDK against the fake server."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from harness.backends.gemini.batch import run_batch
from harness.backends.gemini.client import GeminiBackend, make_client
from harness.backends.gemini.tuning import (
    TuningFailed,
    TuningSpec,
    export_task_train,
    launch,
    sft_row,
    tune,
    wait,
)
from harness.config.load import compose_run
from harness.config.schema import GeminiModelConfig
from harness.core.errors import ConfigError
from harness.core.paths import shared_data_dir
from harness.core.records import GenerationParams, Request
from tests.fakes.fixtures import compose_model
from tests.fakes.gemini_server import FakeGemini

SHARED_SFT = shared_data_dir() / "wikilingua" / "sft_train_samples.jsonl"


def flash(fake: FakeGemini, **kw: object) -> GeminiModelConfig:
    cfg = compose_model("gemini_flash", base_url=fake.url)
    assert isinstance(cfg, GeminiModelConfig)
    return dataclasses.replace(cfg, **kw)  # type: ignore[arg-type]


def test_batch_api_matches_the_online_backend(gemini_fake: FakeGemini, planted_key: str) -> None:
    cfg = flash(gemini_fake)
    gemini_fake.blocked_prompts.add("q 3")
    reqs = [Request(str(i), f"q {i}", params=GenerationParams(max_new_tokens=8)) for i in range(5)]
    sleeps: list[float] = []
    out = run_batch(cfg, reqs, poll_s=5.0, sleep=sleeps.append)
    online = GeminiBackend(cfg).generate(reqs)
    assert [(r.texts, r.finish_reason, r.output_tokens) for r in out] == [
        (r.texts, r.finish_reason, r.output_tokens) for r in online
    ]
    assert out[3].finish_reason == "SAFETY" and all(r.ok for r in out)
    assert sleeps == [5.0, 5.0]  # polled until the fake's job finished
    create = gemini_fake.log[0]
    assert create.path.endswith("models/gemini-2.5-flash:batchGenerateContent")
    inlined = create.body["batch"]["inputConfig"]["requests"]["requests"]
    assert [r["metadata"]["key"] for r in inlined] == ["0", "1", "2", "3", "4"]
    assert any(e.method == "GET" and e.path.endswith("batches/fake-batch-1") for e in gemini_fake.log)


def test_batch_that_never_finishes_fails_every_request(gemini_fake: FakeGemini, planted_key: str) -> None:
    gemini_fake.polls_until_done = 10**6
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    out = run_batch(
        flash(gemini_fake), [Request("a", "x")], poll_s=60, timeout_s=300, sleep=sleep, clock=lambda: now[0]
    )
    assert out[0].error is not None and "not done" in out[0].error.message


def test_export_task_train_writes_gemini_tuning_rows(tmp_path: Path) -> None:
    task = compose_run(["task=classification", "model=gemini_flash"]).task
    n = export_task_train(task, tmp_path / "train.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert n == len(rows) > 0
    first = rows[0]["contents"]
    assert [t["role"] for t in first] == ["user", "model"]
    assert first[1]["parts"][0]["text"] in ("positive", "negative", "neutral")


@pytest.mark.skipif(not SHARED_SFT.exists(), reason="needs ../shared/data")
def test_export_format_matches_the_shared_wikilingua_samples() -> None:
    line = json.loads(SHARED_SFT.read_text(encoding="utf-8").splitlines()[0])
    user, model = line["contents"][0]["parts"][0]["text"], line["contents"][1]["parts"][0]["text"]
    assert sft_row(user, model) == line


def test_vertex_tuning_job_writes_a_usable_model_config(gemini_fake: FakeGemini, tmp_path: Path) -> None:
    base = dataclasses.replace(flash(gemini_fake), api="vertex", project="proj", location="us-central1")
    token = Credentials(token="t")
    sleeps: list[float] = []
    spec = TuningSpec(
        name="flash_sft", training_uri="gs://bucket/train.jsonl", epochs=3, learning_rate_multiplier=0.5, adapter_size=4
    )
    path = tune(base, spec, tmp_path, client=make_client(base, token), poll_s=30, sleep=sleeps.append)
    create = gemini_fake.log[0]
    assert create.path == "v1beta1/projects/proj/locations/us-central1/tuningJobs"
    assert create.body["baseModel"] == "gemini-2.5-flash"
    sft = create.body["supervisedTuningSpec"]
    assert sft["trainingDatasetUri"] == "gs://bucket/train.jsonl"
    hp = sft["hyperParameters"]
    assert (int(hp["epochCount"]), hp["learningRateMultiplier"], hp["adapterSize"]) == (3, 0.5, "ADAPTER_SIZE_FOUR")
    assert create.body["tunedModelDisplayName"] == "flash_sft"
    assert sleeps == [30]  # one GET still running, the next one done
    # the written YAML composes through the schema and serves the tuned endpoint
    (tmp_path / "model" / "flash_sft.yaml").rename(Path("conf/model/_test_flash_sft.yaml"))
    try:
        cfg = compose_model("_test_flash_sft")
    finally:
        Path("conf/model/_test_flash_sft.yaml").unlink()
    assert isinstance(cfg, GeminiModelConfig)
    assert (cfg.variant, cfg.base_model, cfg.api) == ("tuned", "gemini_flash", "vertex")
    assert cfg.model_id == "projects/proj/locations/us-central1/endpoints/fake-endpoint-1"
    assert path.name == "flash_sft.yaml"
    [r] = GeminiBackend(cfg, credentials=token).generate([Request("a", "hi")])
    assert r.ok and gemini_fake.log[-1].path.endswith("/endpoints/fake-endpoint-1:generateContent")


def test_developer_api_tuning_is_refused(gemini_fake: FakeGemini, planted_key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Vertex AI"):
        tune(flash(gemini_fake), TuningSpec(name="x", training_uri="gs://b/t.jsonl"), tmp_path)
    assert gemini_fake.log == []


def test_failed_or_misconfigured_tuning(gemini_fake: FakeGemini, planted_key: str, tmp_path: Path) -> None:
    base = dataclasses.replace(flash(gemini_fake), api="vertex", project="p", location="l")
    with pytest.raises(ConfigError, match="gs://"):
        tune(base, TuningSpec(name="x"), tmp_path, client=make_client(base, Credentials(token="t")))
    gemini_fake.polls_until_done = 10**6
    with pytest.raises(TuningFailed, match="still"):
        client = make_client(base, Credentials(token="t"))
        job = launch(client, base, TuningSpec(name="x", training_uri="gs://b/t.jsonl"))
        wait(client, job.name, poll_s=1, timeout_s=5, sleep=lambda s: None, clock=iter(range(100)).__next__)


def test_gemini_tune_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.tune.gemini import main

    assert main(["action=export", "task=classification", f"out={tmp_path / 't.jsonl'}"]) == 0
    assert (tmp_path / "t.jsonl").read_text().count("\n") > 0
    assert main(["action=tune", "model=gemini_flash", "name=x", "training_uri=gs://b/t.jsonl"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness.tune.gemini: error:") and "Vertex AI" in err
    assert main(["action=tune", "model=gemini_flash", "name=x", "epochs=many"]) == 2
    assert "epochs" in capsys.readouterr().err
