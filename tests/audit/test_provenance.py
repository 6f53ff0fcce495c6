"""Tuning provenance: tuned variants' configs name the data they were tuned on (model.tuning_data)."""

from __future__ import annotations

from pathlib import Path

import yaml
from omegaconf import OmegaConf

from harness.backends.gemini.tuning import model_yaml as gemini_yaml
from harness.config.load import compose_run
from harness.config.schema import GeminiModelConfig, HFModelConfig
from harness.core.paths import ROOT
from harness.data.samples import fingerprint, load_task_data
from harness.tune.local import model_yaml, tuning_data


def test_local_tune_records_the_train_file() -> None:
    task = compose_run(["task=classification"]).task
    samples = load_task_data(task).train
    record = tuning_data(task, samples)
    assert record == {"path": "${hroot:}/tasks/classification/train.jsonl", "fingerprint": fingerprint(samples),
                      "n": len(samples)}
    base = compose_run(["model=gemma3_270m"]).model
    text = model_yaml("v", base, ROOT / "results" / "adapters" / "v", record["path"])
    assert yaml.safe_load(text)["tuning_data"] == record["path"]
    assert "tuning_data" not in yaml.safe_load(model_yaml("v", base, ROOT / "results" / "adapters" / "v"))


def test_shipped_lora_variant_names_its_tuning_data() -> None:
    model = compose_run(["model=gemma3_270m_lora"]).model
    assert isinstance(model, HFModelConfig)
    assert model.tuning_data == str(ROOT / "tasks" / "classification" / "train.jsonl")


def test_gemini_tuned_config_carries_the_training_file(tmp_path: Path) -> None:
    base = GeminiModelConfig(name="gemini_flash", model_id="gemini-2.5-flash", api="vertex", project="p",
                             location="l")
    text = gemini_yaml("tuned", base, "gemini_flash", "projects/p/endpoints/1", "jobs/1", str(tmp_path / "t.jsonl"))
    data = yaml.safe_load(text)
    data.pop("defaults")
    merged = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(GeminiModelConfig), data))
    assert isinstance(merged, GeminiModelConfig) and merged.tuning_data == str(tmp_path / "t.jsonl")
    assert "tuning_data" not in gemini_yaml("tuned", base, "gemini_flash", "m", "j")
