"""The summarization and json kinds: config checks fail early and name the file; requests carry the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.kinds.json_output
import harness.kinds.summarization  # noqa: F401  (registers the kinds)
from harness.config.schema import JsonTask, SummarizationTask
from harness.core.errors import ConfigError, DataError
from harness.core.records import GenerationParams, Sample
from harness.kinds.base import KINDS

GOLD = Sample(id="a", input="text", references=('{"x": 1}',))
SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


@pytest.fixture
def assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_TASKS_DIR", str(tmp_path))
    folder = tmp_path / "t"
    folder.mkdir()
    return folder


def check(task: JsonTask, assets: Path, samples: tuple[Sample, ...] = (GOLD,)) -> None:
    KINDS.get("json").check(task, samples, assets)


def test_valid_schema_passes(assets: Path) -> None:
    (assets / "schema.json").write_text(json.dumps(SCHEMA))
    check(JsonTask(name="t", schema="schema.json"), assets)


def test_missing_schema_file_names_it(assets: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found: .*t/nope\.json"):
        check(JsonTask(name="t", schema="nope.json"), assets)


def test_invalid_json_schema_is_config_error(assets: Path) -> None:
    (assets / "schema.json").write_text(json.dumps({"type": "objekt"}))
    with pytest.raises(ConfigError, match=r"schema\.json: invalid JSON Schema at type"):
        check(JsonTask(name="t", schema="schema.json"), assets)


def test_schema_that_is_not_json(assets: Path) -> None:
    (assets / "schema.json").write_text("{type: object}")
    with pytest.raises(ConfigError, match=r"schema\.json:1: JSON schema is not valid JSON"):
        check(JsonTask(name="t", schema="schema.json"), assets)


def test_schema_of_wrong_kind(assets: Path) -> None:
    (assets / "schema.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be an object"):
        check(JsonTask(name="t", schema="schema.json"), assets)


def test_constrained_without_schema(assets: Path) -> None:
    with pytest.raises(ConfigError, match=r"constrained=true needs task\.schema"):
        check(JsonTask(name="t", constrained=True), assets)


def test_unknown_normalizer(assets: Path) -> None:
    with pytest.raises(ConfigError, match=r"field_normalization\.total: unknown normalizer 'money'"):
        check(JsonTask(name="t", field_normalization={"total": "money"}), assets)


def test_unknown_extraction_mode(assets: Path) -> None:
    with pytest.raises(ConfigError, match="strict or lenient"):
        check(JsonTask(name="t", extraction="fuzzy"), assets)


def test_gold_that_is_not_json(assets: Path) -> None:
    bad = Sample(id="b7", input="t", references=("company: X",))
    with pytest.raises(DataError, match="sample 'b7': gold answer is not JSON"):
        check(JsonTask(name="t"), assets, (bad,))


def test_constrained_request_carries_schema(assets: Path) -> None:
    (assets / "schema.json").write_text(json.dumps(SCHEMA))
    task = JsonTask(name="t", schema="schema.json", constrained=True)
    req = KINDS.get("json").request(GOLD, "prompt", None, GenerationParams(max_new_tokens=9), task)
    assert req.params.json_schema is not None
    assert json.loads(req.params.json_schema) == SCHEMA
    assert req.params.max_new_tokens == 9
    assert req.sample_id == "a"


def test_unconstrained_request_has_no_schema(assets: Path) -> None:
    (assets / "schema.json").write_text(json.dumps(SCHEMA))
    task = JsonTask(name="t", schema="schema.json", constrained=False)
    req = KINDS.get("json").request(GOLD, "prompt", "sys", GenerationParams(), task)
    assert req.params.json_schema is None
    assert req.system == "sys"


def test_summarization_needs_references(tmp_path: Path) -> None:
    task = SummarizationTask(name="s")
    KINDS.get("summarization").check(task, (Sample(id="1", input="x", references=("y",)),), tmp_path)
    with pytest.raises(DataError, match="sample '2' has no reference summary"):
        KINDS.get("summarization").check(task, (Sample(id="2", input="x", references=("  ",)),), tmp_path)


@pytest.mark.parametrize("name", ["json_extraction", "sroie"])
def test_shipped_schemas_are_valid(name: str) -> None:
    from harness.core.paths import ROOT
    from harness.kinds.json_output import load_schema

    assert load_schema(ROOT / "tasks" / name / "schema.json")["type"] == "object"
