"""Promise 4: every bad input is one clear line naming what and where, exit code 2, no traceback, no complete run.

Each case runs the real CLI (`python -m harness`, `-m harness.gate`,
`-m harness.compare`) as a subprocess in its own folder, with the replay
backend so no model loads. The cases run four at a time (they are mostly
interpreter start-up) and are then checked one by one. Cases already covered
elsewhere are not repeated here (see docs/reliability.md): unknown task, bad
`task.limit`, missing `model.path`, a sweep naming an unknown task, unknown
scorer, missing data file, missing template (tests/foundation/test_config.py),
and the gate's mistyped names (tests/compare/test_gate.py).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.core.paths import ROOT
from harness.core.records import Response
from harness.run.cache import ResponseCache
from harness.run.results import INCOMPLETE
from harness.run.runner import evaluate
from tests.reliability.support import cli_env, isolated_fast, make_dataset, mlflow_runs, run

CLS = ROOT / "tasks" / "classification" / "test.jsonl"
ROW = '{"id": "a", "text": "fine", "label": "positive"}\n'


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    needles: list[str]
    prepare: Callable[[Path], object] = field(default=lambda tmp: None)


def _write(name: str, content: bytes) -> Callable[[Path], object]:
    return lambda tmp: (tmp / name).write_bytes(content)


def _replay(tmp: Path, drop: int = 0) -> None:
    rows = [json.loads(line) for line in CLS.read_text().splitlines()]
    out = "".join(json.dumps({"id": r["id"], "output": r["label"]}) + "\n" for r in rows[drop:])
    (tmp / "replay.jsonl").write_text(out)


def _corrupt_cache(tmp: Path) -> None:
    cache = ResponseCache(tmp / "cache.sqlite")
    cache.put_many((f"k{i}", "m", Response(texts=(f"answer {i}" * 50,))) for i in range(200))
    cache.close()
    with (tmp / "cache.sqlite").open("r+b") as fh:  # keep the header page, shred the tables
        fh.seek(4096)
        fh.write(b"\xde\xad\xbe\xef" * 4096)


def _foreign_sqlite(tmp: Path) -> None:
    with sqlite3.connect(tmp / "cache.sqlite") as con:  # e.g. cache.path=mlflow.db by mistake
        con.execute("CREATE TABLE responses (run_uuid TEXT, value REAL)")


def _both(*steps: Callable[[Path], object]) -> Callable[[Path], None]:
    def prepare(tmp: Path) -> None:
        for step in steps:
            step(tmp)

    return prepare


def _data(*rows: str) -> Callable[[Path], object]:
    return _write("data.jsonl", "".join(rows).encode())


BYO = ["task.data.path=data.jsonl", "task.data.train_path=null"]
REPLAY = ["model=replay", "model.path=replay.jsonl"]

CASES = [
    # ---- names, keys, types, syntax (compose time: no data read, no model)
    Case("unknown model", ["model=gpt5"], ["unknown model 'gpt5'", "conf/model/"]),
    Case("unknown backend", [*REPLAY, "model.backend=nope"], ["unknown model backend 'nope'", "model.backend"]),
    Case("unknown top-level key", ["chunk_sise=3"], ["'chunk_sise'", "did you mean: chunk_size"]),
    Case("unknown model key", [*REPLAY, "model.temperature=0.5"], ["unknown config key 'model.temperature'"]),
    Case("mistyped nested key", ["retry.max_atempts=3"], ["'retry.max_atempts'", "max_attempts"]),
    Case("not a bool", ["allow_code_execution=maybe"], ["allow_code_execution"]),
    Case("not a float", ["retry.max_error_rate=lots"], ["wrong type for 'retry.max_error_rate'"]),
    Case("not a list", ["task.labels=positive"], ["wrong type for 'task.labels'"]),
    Case("missing required value", ["model=openai_compat"], ["missing required value 'model.model_id'"]),
    Case("bad syntax: empty key part", ["task..limit=3"], ["bad override syntax", "task..limit=3"]),
    Case("bad syntax: two '='", ["task.limit=3=4"], ["bad override syntax"]),
    Case("bad syntax: open list", ["task.labels=[a,b"], ["bad override syntax", "[a,b"]),
    Case("limit zero", [*REPLAY, "task.limit=0"], ["task.limit must be positive"], _replay),
    # ---- data
    Case("data path is a folder", [*REPLAY, "task.data.path=."], ["unsupported data file type"], _replay),
    Case("empty data set", [*REPLAY, *BYO], ["data.jsonl", "empty"], _data()),
    Case("non-UTF-8 bytes", [*REPLAY, *BYO], ["data.jsonl:1: not valid UTF-8"],
         _write("data.jsonl", b'{"id": "a", "text": "caf\xe9", "label": "positive"}\n')),
    Case("malformed JSON row", [*REPLAY, *BYO], ["data.jsonl:2: malformed JSON"], _data(ROW, '{"id": "b", "te\n')),
    Case("row without the input field", [*REPLAY, *BYO], ["data.jsonl", "row 2: missing field 'text'"],
         _data(ROW, '{"id": "b", "txt": "y", "label": "positive"}\n')),
    Case("duplicate ids", [*REPLAY, *BYO], ["data.jsonl", "row 2: duplicate id 'a'"], _data(ROW, ROW)),
    Case("label not in the label list", [*REPLAY, *BYO], ["label 'postive' is not in task.labels", "positive"],
         _data('{"id": "a", "text": "fine", "label": "postive"}\n')),
    Case("more shots than train rows", [*REPLAY, "task.shots=1000"], ["task.shots=1000", "train.jsonl"], _replay),
    # ---- task assets
    Case("JSON Schema file is not JSON", ["task=json_extraction", *REPLAY, "task.schema=${oc.env:PWD}/s.json"],
         ["s.json:1: JSON schema is not valid JSON"], _write("s.json", b"{not json")),
    Case("invalid JSON Schema", ["task=json_extraction", *REPLAY, "task.schema=${oc.env:PWD}/s.json"],
         ["s.json", "invalid JSON Schema", "nonsense"], _write("s.json", b'{"type": "nonsense"}')),
    Case("unknown language for humaneval_x", ["task=humaneval_x", "task.language=cobol", *REPLAY,
                                              f"task.data.path={ROOT / 'tasks/code_mini/test.jsonl'}",
                                              "allow_code_execution=true"],
         ["cobol"], _replay),
    Case("code task without allow_code_execution", ["task=code_mini", *REPLAY],
         ["allow_code_execution=true", "code_mini"], _replay),
    # ---- cache, replay file, output places
    Case("cache path is a folder", [*REPLAY, "cache.path=."], ["response cache", "unreadable or corrupt"], _replay),
    Case("cache file of garbage", [*REPLAY], ["response cache", "cache.sqlite", "corrupt"],
         _both(_replay, _write("cache.sqlite", b"GARBAGE" * 1000))),
    Case("corrupt SQLite cache", [*REPLAY], ["response cache", "cache.sqlite", "malformed"],
         _both(_replay, _corrupt_cache)),
    Case("another SQLite file as cache", [*REPLAY], ["response cache", "cache.sqlite", "corrupt"],
         _both(_replay, _foreign_sqlite)),
    Case("missing replay file", [*REPLAY], ["replay file not found", "replay.jsonl", "model.path"]),
    Case("id missing from the replay file", [*REPLAY], ["replay.jsonl", "no output for sample id 'test-000'"],
         lambda tmp: _replay(tmp, drop=1)),
    Case("malformed replay row", [*REPLAY], ["replay.jsonl:1", "malformed JSON"], _write("replay.jsonl", b"{oops\n")),
    Case("results_dir is a file", [*REPLAY, "results_dir=replay.jsonl"], ["results_dir=replay.jsonl"], _replay),
    Case("unsupported tracking.uri", [*REPLAY, "tracking.uri=nosuch://x"], ["tracking.uri='nosuch://x'"], _replay),
]

GATE_CASES = ["gate metric the task lacks", "baseline run from another data set"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """Two real FINISHED replay runs of task classification: the shipped data, and a different data set."""
    tmp = tmp_path_factory.mktemp("runs")
    _replay(tmp)
    replay = f"model.path={tmp / 'replay.jsonl'}"
    first = evaluate(compose_run([*isolated_fast(tmp, cli=False), "model=replay", replay]), quiet=True)
    data, _ = make_dataset(tmp, 40)
    ids = [json.loads(line)["id"] for line in data.read_text().splitlines()]
    (tmp / "other.jsonl").write_text("".join(json.dumps({"id": i, "output": "positive"}) + "\n" for i in ids))
    second = evaluate(compose_run([*isolated_fast(tmp, cli=False), "model=replay", f"model.path={tmp / 'other.jsonl'}",
                                   f"task.data.path={data}", "task.data.train_path=null"]), quiet=True)
    assert first.mlflow_run_id and second.mlflow_run_id
    return tmp, first.mlflow_run_id, second.mlflow_run_id


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, two_runs: tuple[Path, str, str]
             ) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    store, first, second = two_runs
    uri = f"sqlite:///{store / 'mlflow.db'}"
    jobs: list[tuple[str, Path, list[str], str]] = []
    for case in CASES:
        tmp = tmp_path_factory.mktemp("case")
        case.prepare(tmp)
        jobs.append((case.name, tmp, [*isolated_fast(tmp), *case.args], "harness"))
    gate_tmp = tmp_path_factory.mktemp("gate")
    jobs.append((GATE_CASES[0], gate_tmp, ["gate=release", f"candidate={first}", "gate.checks.0.metric=rougeL",
                                           f"tracking_uri={uri}", f"out_dir={gate_tmp}"], "harness.gate"))
    jobs.append((GATE_CASES[1], gate_tmp, [f"baseline={first}", f"candidates=[{second}]", f"tracking_uri={uri}",
                                           f"out_dir={gate_tmp}"], "harness.compare"))

    def go(job: tuple[str, Path, list[str], str]) -> tuple[str, tuple[Path, subprocess.CompletedProcess[str]]]:
        name, tmp, args, module = job
        env = {**cli_env(), "PWD": str(tmp)}
        return name, (tmp, run(args, tmp, env=env, module=module, timeout=400))

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(go, jobs))


def _one_line(proc: subprocess.CompletedProcess[str], prefix: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-1500:], proc.stderr[-2500:])
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2500:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith(prefix)]
    assert len(errors) == 1, proc.stderr[-2500:]
    return errors[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_exit_2_and_no_complete_run(
    case: Case, outcomes: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    tmp, proc = outcomes[case.name]
    line = _one_line(proc, "harness: error:")
    for needle in case.needles:
        assert needle in line, (needle, line)
    # never a partially-scored run reported as complete: no whole results folder, no FINISHED run
    folders = [p for p in (tmp / "results").glob("*/*/*") if p.is_dir() and ".hydra" not in p.parts]
    assert all((p / INCOMPLETE).exists() for p in folders), folders
    if (tmp / "mlflow.db").exists():
        assert all(r.info.status == "FAILED" for r in mlflow_runs(tmp))


def test_gate_on_a_metric_the_task_lacks(outcomes: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]) -> None:
    tmp, proc = outcomes[GATE_CASES[0]]
    line = _one_line(proc, "harness.gate: error:")
    assert "rougeL" in line, line
    assert not list(tmp.glob("**/*.xml"))  # no report that could pass for a verdict


def test_compare_with_a_baseline_from_another_data_set(
    outcomes: dict[str, tuple[Path, subprocess.CompletedProcess[str]]], two_runs: tuple[Path, str, str]
) -> None:
    _, first, second = two_runs
    _, proc = outcomes[GATE_CASES[1]]
    line = _one_line(proc, "harness.compare: error:")
    assert "different data" in line and first in line and second in line, line


def test_cli_errors_name_no_secret(outcomes: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]) -> None:
    from tests.reliability.support import API_KEY

    assert all(API_KEY not in proc.stderr + proc.stdout for _, proc in outcomes.values())


def test_the_cases_are_many_and_distinct() -> None:
    names = [c.name for c in CASES] + GATE_CASES
    assert len(names) == len(set(names)) >= 25
