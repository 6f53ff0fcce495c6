"""`python -m harness.compare ... judge=pairwise` end to end: a scripted judge behind the local Gemini server.

Real parts: the judge opened by name (harness.judge.model: Gemini backend through
google-genai, the response cache, the retry loop), a real sqlite MLflow store, the
reports on disk. The fake server answers judge prompts by rule: fairly (the
response equal to the reference), always the first slot, or always the longer one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from harness.compare import cli as compare_cli
from harness.compare.api import CompareOutcome, run_compare
from harness.compare.config import CompareConfig
from harness.compare.runs import Selector, find_run
from harness.gate.checks import evaluate_gate
from harness.gate.config import CheckConfig, GateConfig
from tests.compare.mlflow_runs import log_run, make_rows
from tests.fakes import gemini_server
from tests.fakes.gemini_server import FakeGemini

_SLOTS = re.compile(r"\[Response A\]\n(.*?)\n\n\[Response B\]\n(.*?)\n\nReply with", re.S)
_REF = re.compile(r"\[Reference answer\]\n(.*?)\n")
N = 40


def _fair(prompt: str, a: str, b: str) -> str:
    ref = _REF.search(prompt)
    ok_a, ok_b = bool(ref) and a == ref.group(1), bool(ref) and b == ref.group(1)  # type: ignore[union-attr]
    return "tie" if ok_a == ok_b else "A" if ok_a else "B"


RULES: dict[str, Callable[[str, str, str], str]] = {
    "fair": _fair,
    "first": lambda p, a, b: "A",
    "longer": lambda p, a, b: "A" if len(a.split()) > len(b.split()) else "B" if len(b.split()) > len(a.split())
    else "tie",
}


@dataclass
class RuleGemini(FakeGemini):
    """The fake Gemini server answering judge prompts by the rule named in `rule`."""

    rule: str = "fair"
    judge_prompts: list[str] = field(default_factory=list)

    def reply_text(self, prompt: str) -> str:
        m = _SLOTS.search(prompt)
        if not m:
            return f"echo: {prompt}"
        self.judge_prompts.append(prompt)
        return RULES[self.rule](prompt, m.group(1), m.group(2))


@pytest.fixture(scope="module")
def fake() -> Iterator[RuleGemini]:
    state, server = gemini_server.start(RuleGemini())
    try:
        yield state  # type: ignore[misc]
    finally:
        gemini_server.stop(server)


def _rows(right: list[bool], long_when_wrong: bool) -> list[dict[str, Any]]:
    """Rows of one run: output = reference when right, else a wrong answer (longer or shorter)."""
    rows = make_rows({"accuracy": [float(r) for r in right]})
    for i, (row, ok) in enumerate(zip(rows, right, strict=True)):
        row["reference"] = f"label{i}"
        row["input"] = f"question {i}"
        row["output"] = row["reference"] if ok else ("a much longer wrong answer" if long_when_wrong else "no")
    return rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str, Path]:
    """Baseline right on items 0-19, candidate right on 0-33 (14 wins, 0 losses for a fair judge).

    The baseline's wrong answers are long and the candidate's short, so a judge that
    prefers the longer output prefers the baseline on exactly the items where it is wrong.
    """
    tmp = tmp_path_factory.mktemp("judged")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    base = log_run(uri, _rows([i < 20 for i in range(N)], True), model="base-model")
    cand = log_run(uri, _rows([i < 34 for i in range(N)], False), model="tuned-model", variant="lora")
    return base, cand, uri, tmp


def _cfg(runs: tuple[str, str, str, Path], fake: RuleGemini, name: str, **kw: Any) -> CompareConfig:
    base, cand, uri, tmp = runs
    kw.setdefault("primary_metric", "accuracy")
    return CompareConfig(
        baseline=base, candidates=[cand], tracking_uri=uri, out_dir=str(tmp / name), resamples=500,
        judge="pairwise", judge_model="gemini_flash",
        judge_overrides=[f"model.base_url={fake.url}", "model.concurrency=8"], **kw,
    )


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fake key, and a fresh working directory: each test's judge cache (results/cache.sqlite) is its own."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.chdir(tmp_path)


def _judge(fake: RuleGemini, rule: str, cfg: CompareConfig) -> CompareOutcome:
    fake.rule = rule
    fake.judge_prompts.clear()
    return run_compare(cfg)


def test_fair_judge_end_to_end(runs: tuple[str, str, str, Path], fake: RuleGemini, planted: None) -> None:
    out = _judge(fake, "fair", _cfg(runs, fake, "fair"))
    # both orders of every item; on items 0-19 both outputs are the reference, so the two orders are one
    # prompt, sent once (the cache is content-addressed): 2 * 40 - 20 distinct requests
    assert len(fake.judge_prompts) == len(set(fake.judge_prompts)) == 2 * N - 20
    shown = {_SLOTS.search(p).groups() for p in fake.judge_prompts}  # type: ignore[union-attr]
    assert {("a much longer wrong answer", "label25"), ("label25", "a much longer wrong answer")} <= shown
    jv = out.judge
    assert jv is not None and not jv.caution
    cj = jv.candidates[0]
    assert (cj.result.wins, cj.result.ties, cj.result.losses) == (14, 26, 0)
    mc = out.comparison.candidates[0].metric("judge.win_rate")
    # sign test, 14 wins of 14 decisive: 2 * 0.5**14; win rate (14 + 26 / 2) / 40 = 0.675
    assert mc.test.test == "sign" and mc.test.p_value == pytest.approx(2 * 0.5**14)
    assert mc.candidate_mean == pytest.approx(0.675) and mc.delta.estimate == pytest.approx(0.175)
    assert mc.p_holm >= mc.test.p_value  # Holm with the other metric (accuracy)

    md = out.markdown.read_text()
    assert "## Side-by-side judge (model-graded)" in md and "judge.win_rate (model-graded)" in md
    assert "CAUTION: weak judge" not in md
    html = out.html.read_text()
    assert "Side-by-side judge (model-graded)" in html and "judge.win_rate (model-graded)" in html
    summary = json.loads((out.out_dir / "comparison.json").read_text())
    assert summary["judge"]["model_graded"] is True and summary["judge"]["metric"] == "judge.win_rate"
    assert summary["judge"]["candidates"][0]["position_consistency"]["value"] == 1.0
    rows = [json.loads(line) for line in (out.out_dir / "judgements.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["id"] == "ex0025")  # candidate right, baseline wrong: picked in both orders
    assert (row["baseline_first_reply"], row["candidate_first_reply"], row["outcome"]) == ("B", "A", 1.0)

    assert out.mlflow_run_id
    run = MlflowClient(runs[2]).get_run(out.mlflow_run_id)
    tags = run.data.tags
    assert tags["harness.compare.judge"] == "pairwise" and tags["harness.compare.judge.model"] == "gemini_flash"
    assert tags["harness.compare.judge.template_hash"] == jv.template_hash and tags["harness.compare.judge.identity"]
    assert tags["harness.compare.judge.weak"] == "false"
    assert run.data.metrics["c0.judge.win_rate.delta"] == pytest.approx(0.175)
    assert run.data.metrics["c0.judge.position_consistency"] == 1.0
    assert "judgements.jsonl" in {a.path for a in MlflowClient(runs[2]).list_artifacts(out.mlflow_run_id)}

    # re-judging the same outputs is served by the judge's cache: no request reaches the server
    fake.judge_prompts.clear()
    again = run_compare(_cfg(runs, fake, "fair"))
    assert fake.judge_prompts == [] and again.judge is not None
    assert again.judge.candidates[0].result.win_rate == pytest.approx(0.675)

    # the win rate as the verdict's own metric: 14 wins, no loss, n = 40 >= min_n
    primary = run_compare(_cfg(runs, fake, "fair", primary_metric="judge.win_rate"))
    assert fake.judge_prompts == []
    assert "PAYS OFF on judge.win_rate (model-graded)" in primary.comparison.headline()


def test_first_position_judge_says_caution_and_gate_refuses(
    runs: tuple[str, str, str, Path], fake: RuleGemini, planted: None
) -> None:
    out = _judge(fake, "first", _cfg(runs, fake, "first"))
    jv = out.judge
    assert jv is not None and jv.caution
    q = jv.candidates[0].result.quality
    assert q.position_consistency.value == 0.0 and q.n_inconsistent == N
    assert "CAUTION: weak judge" in out.markdown.read_text() and "CAUTION: weak judge" in out.html.read_text()
    assert MlflowClient(runs[2]).get_run(out.mlflow_run_id or "").data.tags["harness.compare.judge.weak"] == "true"

    cand = find_run(Selector(runs[1]), runs[2])
    gate = GateConfig(name="g", checks=[CheckConfig(metric="accuracy", min=0.5)])
    failed = evaluate_gate(gate, cand, runs[2])
    judge_checks = [c for c in failed.checks if c.name.startswith("judge is not weak")]
    assert len(judge_checks) == 1 and not judge_checks[0].passed and "position consistency" in judge_checks[0].detail
    allowed = evaluate_gate(GateConfig(name="g", checks=gate.checks, allow_weak_judge=True), cand, runs[2])
    assert allowed.passed


def test_length_judge_is_caught_by_length_bias(
    runs: tuple[str, str, str, Path], fake: RuleGemini, planted: None
) -> None:
    fake.log.clear()
    out = _judge(fake, "longer", _cfg(runs, fake, "longer", judge_max_new_tokens=8))
    sent = [e.body["generationConfig"]["maxOutputTokens"] for e in fake.log if e.path.endswith(":generateContent")]
    assert sent and set(sent) == {8}  # judge_max_new_tokens reaches the judge's requests
    jv = out.judge
    assert jv is not None
    q = jv.candidates[0].result.quality
    assert q.length_bias.value == pytest.approx(1.0) and q.position_consistency.value == 1.0
    assert jv.caution and any("length bias" in r for r in jv.reasons)


def test_bad_judge_config_is_one_line(runs: tuple[str, str, str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, cand, uri, tmp = runs
    args = [f"baseline={base}", f"candidates=[{cand}]", f"tracking_uri={uri}", f"out_dir={tmp / 'bad'}",
            "primary_metric=accuracy"]
    assert compare_cli.main([*args, "judge=pairwis", "judge_model=gemini_flash"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pairwise" in err[0] and err[0].startswith("harness.compare: error:")
    assert compare_cli.main([*args, "judge=pairwise"]) == 2
    assert "judge_model" in capsys.readouterr().err
    assert compare_cli.main([*args, "judge=pairwise", "judge_model=no_such_model"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no_such_model" in err[0]


def test_self_preference_is_named() -> None:
    from harness.compare.judged import self_preference
    from harness.compare.runs import RunData

    base = RunData("a" * 32, "", {"harness.model": "gemma3_270m", "harness.model_id": "google/gemma-3-270m"}, {})
    cand = RunData("b" * 32, "", {"harness.model": "my_lora", "harness.model_id": "google/gemma-3-270m",
                                  "harness.adapter": "abc123"}, {})
    warning = self_preference("hf:google/gemma-3-270m@rev1", "gemma3_270m", base, cand)
    assert "self-preference" in warning and "baseline" in warning and "candidate model" not in warning
    assert self_preference("hf:google/gemma-3-270m@rev1", "gemma3_270m_judge", base, cand) != ""  # same weights
    assert self_preference("gemini:gemini-2.5-flash", "gemini_flash", base, cand) == ""


def test_cli_leads_with_caution(
    runs: tuple[str, str, str, Path], fake: RuleGemini, planted: None, capsys: pytest.CaptureFixture[str]
) -> None:
    base, cand, uri, _ = runs
    fake.rule = "first"
    code = compare_cli.main([f"baseline={base}", f"candidates=[{cand}]", f"tracking_uri={uri}", "out_dir=cmp",
                             "primary_metric=accuracy",
                             "judge=pairwise", "judge_model=gemini_flash", f"judge_overrides=['base_url={fake.url}']"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "CAUTION: weak judge" and "judge.win_rate" not in out[1]  # primary: accuracy
    assert any(line.startswith("judge (model-graded, pairwise): gemini_flash") for line in out)
    assert any("position consistency 0.00" in line for line in out)


def test_judge_check_kappa_of_the_same_judge_is_applied(
    runs: tuple[str, str, str, Path], fake: RuleGemini, planted: None
) -> None:
    """Last in this module on purpose: the judge_check run it logs is found by every later judged comparison."""
    from harness.config.schema import CacheConfig
    from harness.judge.model import open_judge

    uri = runs[2]
    with open_judge("gemini_flash", [f"base_url={fake.url}"], cache=CacheConfig(enabled=False)) as judge:
        identity = judge.identity
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("harness")
    assert exp is not None
    def judge_check(task: str, kappa: float) -> str:
        tags = {"harness.kind": "judge_check", "harness.judge.identity": identity, "harness.task": task}
        run = client.create_run(exp.experiment_id, tags=tags)
        client.log_metric(run.info.run_id, "judge.kappa", kappa)
        client.set_terminated(run.info.run_id, "FINISHED")
        return str(run.info.run_id)

    check_id = judge_check("sst2", 0.25)  # the compared runs' task (tests/compare/mlflow_runs.py)
    judge_check("banking77_demo", 0.9)  # newer, but another task: not evidence for this one

    out = _judge(fake, "fair", _cfg(runs, fake, "kappa"))  # a fair judge, but its judge_check disagrees
    jv = out.judge
    assert jv is not None and jv.kappa == 0.25 and jv.kappa_run == check_id
    assert jv.caution and jv.reasons[0].endswith("judge_check kappa 0.25 < 0.4")
    given = run_compare(_cfg(runs, fake, "kappa-given", judge_kappa=0.6))  # given by hand: wins over the lookup
    assert given.judge is not None and given.judge.kappa == 0.6 and not given.judge.caution
