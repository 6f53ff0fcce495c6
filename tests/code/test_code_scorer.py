"""The `code` kind and the `code_exec` scorer, through their registries and the shipped configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.config.load import compose_run
from harness.core.errors import ConfigError, DataError
from harness.core.records import GenerationParams, Response, Sample
from harness.data.samples import load_task_data
from harness.kinds.base import KINDS
from harness.run.plugins import load_plugins
from harness.scorers.base import SCORERS, ScoreInput, ScoringContext

load_plugins()
ALLOW = ScoringContext(allow_code_execution=True, workers=2)


def task(*overrides: str) -> Any:
    return compose_run(["task=code_mini", "model=" + _any_model(), *overrides]).task


def _any_model() -> str:
    return sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "model").glob("*.yaml"))[0]


def test_canonical_code_mini_solutions_pass_and_wrong_ones_fail() -> None:
    t = task("task.mode=completion", "task.n_samples=2", "task.k=[1,2,5]")
    data = load_task_data(t)
    assert len(data.test) == 16 and len(data.train) == 4
    items = [ScoreInput(s, Response(texts=(s.target, "    return None\n"))) for s in data.test]
    scores = SCORERS.get("code_exec")(items, t, ALLOW)
    for s in scores:
        assert s.values == {"pass@1": 0.5, "pass@2": 1.0}  # pass@5 is undefined for n=2: left out
        assert s.details["undefined_k"] == [5]
        first, second = s.details["candidates"]
        assert first["passed"] and not second["passed"] and second["exit_code"] == 1
        assert "AssertionError" in second["stderr"]


def test_instruction_mode_scores_chat_replies() -> None:
    t = task()
    sample = load_task_data(t).test[0]  # reverse_words
    replies = (
        "```python\ndef reverse_words(s: str) -> str:\n    return ' '.join(reversed(s.split()))\n```",
        "```python\n    return s[::-1]\n```",
        "",
    )
    [score] = SCORERS.get("code_exec")([ScoreInput(sample, Response(texts=replies))], t, ALLOW)
    assert [c["passed"] for c in score.details["candidates"]] == [True, False, False]
    assert score.values["pass@1"] == pytest.approx(1 / 3)


def test_scorer_refuses_without_the_double_opt_in() -> None:
    t = task()
    sample = load_task_data(t).test[0]
    items = [ScoreInput(sample, Response(texts=("x",)))]
    with pytest.raises(ConfigError, match="allow_code_execution"):
        SCORERS.get("code_exec")(items, t, ScoringContext(allow_code_execution=False))
    with pytest.raises(ConfigError, match=r"task\.execute"):
        SCORERS.get("code_exec")(items, task("task.execute=false"), ALLOW)


def test_kind_requests_n_samples_and_needs_execution() -> None:
    kind = KINDS.get("code")
    t = task("task.n_samples=5")
    req = kind.request(Sample(id="a", input="p"), "p", None, GenerationParams(), t)
    assert req.params.n == 5
    assert kind.needs_code_execution(t) is True
    assert kind.needs_code_execution(task("task.execute=false")) is False


def test_kind_check_rejects_unknown_language_with_suggestion(tmp_path: Path) -> None:
    kind = KINDS.get("code")
    with pytest.raises(ConfigError, match=r"unknown language 'pyhton'.*did you mean: python"):
        kind.check(task("task.language=pyhton"), [], tmp_path)
    with pytest.raises(ConfigError, match=r"task\.mode"):
        kind.check(task("task.mode=chat"), [], tmp_path)
    with pytest.raises(DataError, match="lacks field"):
        kind.check(task(), [Sample(id="x", input="p", fields={"prompt": "p"})], tmp_path)
    data = load_task_data(task())
    kind.check(task(), data.test, tmp_path)  # the shipped data is fine


def test_humaneval_x_config_selects_the_language_file() -> None:
    t = compose_run(["task=humaneval_x", "task.language=go", "model=" + _any_model()]).task
    assert t.data.path.endswith("humaneval-x/humaneval_go.jsonl.gz")
    assert t.scorers == ["code_exec"] and t.primary_metric == "pass@1"
