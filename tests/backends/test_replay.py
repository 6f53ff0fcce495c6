"""The replay backend serves recorded outputs by sample id, through the registry like any backend."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import harness.backends.replay  # noqa: F401  (registers "replay")
from harness.backends.base import BACKENDS, Capability
from harness.config.schema import ReplayModelConfig
from harness.core.errors import DataError
from harness.core.records import GenerationParams, Request, RequestKind


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    return write(
        tmp_path / "outputs.jsonl",
        [
            {"id": "a", "output": "alpha"},
            {"id": 7, "outputs": ["s1", "s2", "s3"]},
            {"id": "b", "output": "first"},
            {"id": "b", "output": "second"},
        ],
    )


def cfg(path: Path) -> ReplayModelConfig:
    return ReplayModelConfig(name="replay", path=str(path))


def req(sid: str, n: int = 1) -> Request:
    return Request(sample_id=sid, prompt="ignored", params=GenerationParams(n=n))


def test_serves_outputs_in_request_order(outputs: Path) -> None:
    backend = BACKENDS.get("replay").load(cfg(outputs))
    got = backend.generate([req("b"), req("a"), req("7")])
    assert [r.text for r in got] == ["first", "alpha", "s1"]
    assert all(r.ok and r.finish_reason == "stop" for r in got)
    backend.close()


def test_several_outputs_for_pass_at_k(outputs: Path) -> None:
    backend = BACKENDS.get("replay").load(cfg(outputs))
    [three, two] = backend.generate([req("7", n=3), req("b", n=2)])
    assert three.texts == ("s1", "s2", "s3")
    assert two.texts == ("first", "second")  # repeated rows add outputs in file order


def test_missing_id_is_data_error_naming_file_and_id(outputs: Path) -> None:
    backend = BACKENDS.get("replay").load(cfg(outputs))
    with pytest.raises(DataError, match=r"outputs\.jsonl: no output for sample id 'zzz'"):
        backend.generate([req("a"), req("zzz")])


def test_too_few_outputs_is_data_error(outputs: Path) -> None:
    backend = BACKENDS.get("replay").load(cfg(outputs))
    with pytest.raises(DataError, match="'a' has 1 output"):
        backend.generate([req("a", n=5)])


def test_identity_revision_is_file_sha256(outputs: Path) -> None:
    plugin = BACKENDS.get("replay")
    ident = plugin.identify(cfg(outputs))
    assert ident.backend == "replay"
    assert ident.revision == hashlib.sha256(outputs.read_bytes()).hexdigest()
    assert plugin.load(cfg(outputs)).identity == ident
    assert Capability.CANDIDATES in plugin.capabilities
    assert Capability.CHOICES not in plugin.capabilities


def test_choice_requests_fail_as_fatal(outputs: Path) -> None:
    backend = BACKENDS.get("replay").load(cfg(outputs))
    [resp] = backend.generate([Request(sample_id="a", prompt="p", kind=RequestKind.CHOICES, choices=("x", "y"))])
    assert resp.error is not None and not resp.error.retryable


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"replay file not found: .*nope\.jsonl \(model\.path\)"):
        BACKENDS.get("replay").identify(cfg(tmp_path / "nope.jsonl"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"bad\.jsonl:2: malformed JSON row"),
        ('{"output": "no id"}', r"bad\.jsonl:2: .*needs? .*'id'|must be an object with an 'id'"),
        ('{"id": "x"}', r"bad\.jsonl:2: a replay row needs 'output'"),
        ('{"id": "x", "outputs": "not a list"}', r"bad\.jsonl:2: 'outputs' must be a list of strings"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "output": "fine"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        BACKENDS.get("replay").load(cfg(path))
