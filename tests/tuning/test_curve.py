"""The learning curve (`python -m harness.curve`): nested subsets, the crossing point, one tiny real run."""

from __future__ import annotations

import itertools
import json
import random
import time
from pathlib import Path

import pytest

from harness.compare.comparison import compare_runs
from harness.compare.runs import ExampleRow, RunData
from harness.compare.verdict import Verdict, VerdictRules
from harness.curve.cli import main
from harness.curve.crossing import Step, crossing, sentence, steps
from harness.curve.run import judge
from harness.tune.cli import load_config as load_tune_config
from harness.tune.data import nested_subset, train_samples
from harness.tune.local import hyperparameters

# ------------------------------------------------------------------ nested subsets (pure)


@pytest.mark.parametrize("seed", [0, 1, 1234, 99991])
def test_nested_subsets_grow_by_inclusion(seed: int) -> None:
    n = 360
    subsets = [nested_subset(n, k, seed) for k in (1, 25, 50, 100, 200, 359, 360)]
    for small, large in itertools.pairwise(subsets):
        assert set(small) < set(large)
    for k, sub in zip((1, 25, 50, 100, 200, 359, 360), subsets, strict=True):
        assert len(sub) == len(set(sub)) == k and sub == sorted(sub) and all(0 <= i < n for i in sub)
    assert subsets[-1] == list(range(n)) and nested_subset(n, 500, seed) == list(range(n))


def test_nested_subsets_are_seeded() -> None:
    assert nested_subset(360, 50, 7) == nested_subset(360, 50, 7)
    assert nested_subset(360, 50, 7) != nested_subset(360, 50, 8)


def test_plain_tune_selection_is_unchanged_and_not_nested() -> None:
    """Why the curve needs nested=true: random.sample switches algorithm with k (set vs pool method)."""
    task = load_tune_config([]).task  # type: ignore[attr-defined]
    train = train_samples(task, None, 1234)
    assert len(train) == 360
    for k in (25, 50, 100):  # the selection plain `harness.tune` runs have always made
        old = sorted(random.Random("tune:1234").sample(range(360), k))
        assert [s.id for s in train_samples(task, k, 1234)] == [train[i].id for i in old]
    fifty = {s.id for s in train_samples(task, 50, 1234)}
    hundred = {s.id for s in train_samples(task, 100, 1234)}
    assert not fifty <= hundred  # 3 of the 50 are not among the 100
    nested = [{s.id for s in train_samples(task, k, 1234, nested=True)} for k in (25, 50, 100, 200)]
    assert nested[0] < nested[1] < nested[2] < nested[3]


def test_nested_is_in_the_key_only_when_set() -> None:
    """Adapters tuned before the option existed keep their keys (and are reused)."""
    assert "nested" not in hyperparameters(load_tune_config([]))  # type: ignore[arg-type]
    assert hyperparameters(load_tune_config(["nested=true"]))["nested"] is True  # type: ignore[arg-type]


# ------------------------------------------------------------------ crossing point (pure, golden by hand)


def _steps(*beats: tuple[int, bool]) -> list[Step]:
    return [Step(size, 0.1 if b else 0.0, 0.05 if b else -0.1, 0.2, 0.01 if b else 0.5,
                 Verdict.PAYS_OFF if b else Verdict.NO_DIFFERENCE, b) for size, b in beats]


def test_crossing_from_the_first_size_after_the_last_miss() -> None:
    tried = _steps((25, False), (50, False), (100, True), (200, True))
    assert crossing(tried) == 100
    assert sentence("LoRA", "5-shot", tried) == (
        "LoRA beats 5-shot from about 100 examples "
        "(significantly better at 100 and every larger size tried; not at 50)"
    )
    last = _steps((100, False), (200, True))
    assert sentence("LoRA", "5-shot", last) == (
        "LoRA beats 5-shot from about 200 examples (significantly better at 200, the largest size tried; not at 100)"
    )


def test_a_lucky_small_size_is_not_the_crossing() -> None:
    assert crossing(_steps((200, True), (25, True), (100, True), (50, False))) == 100  # order does not matter


def test_crossing_at_the_smallest_size_says_or_fewer() -> None:
    tried = _steps((25, True), (50, True))
    assert crossing(tried) == 25
    assert sentence("LoRA", "5-shot", tried) == (
        "LoRA beats 5-shot from about 25 examples or fewer (significantly better at every size tried, 25-50)"
    )


def test_no_crossing_when_the_largest_size_does_not_beat() -> None:
    tried = _steps((25, False), (50, True), (100, True), (200, False))
    assert crossing(tried) is None
    assert sentence("LoRA", "5-shot", tried) == (
        "LoRA beats 5-shot: not within the sizes tried "
        "(25-200 examples; at 200: no significant difference; significantly better at 50, 100 only)"
    )
    assert crossing([]) is None
    assert sentence("LoRA", "0-shot", _steps((8, False))) == (
        "LoRA beats 0-shot: not within the sizes tried (8 examples; at 8: no significant difference)"
    )


def _run(run_id: str, accuracy: list[float], cost: float = 0.0) -> RunData:
    rows = tuple(ExampleRow(f"t{i}", 10, 1, 0.1, cost, None, {"accuracy": v}) for i, v in enumerate(accuracy))
    return RunData(run_id, run_id, {"harness.dataset_fingerprint": "same"}, {}, rows)


def test_steps_count_only_significant_gains_as_beating() -> None:
    """40 paired items; hand-checked: 20 discordant pairs all for the candidate -> McNemar p = 2 * 0.5**20."""
    reference = _run("ref", [1.0] * 20 + [0.0] * 20, cost=0.001)
    better = _run("n100", [1.0] * 40)
    same_but_cheaper = _run("n25", [1.0] * 20 + [0.0] * 20)  # non-inferior and cheaper: "pays off", not a win
    worse = _run("n50", [0.0] * 40)
    comp = compare_runs(reference, [same_but_cheaper, worse, better], "accuracy", VerdictRules(), metrics=["accuracy"])
    got = steps(comp, [25, 50, 100])
    assert [s.size for s in got] == [25, 50, 100]
    assert [s.verdict for s in got] == [Verdict.PAYS_OFF, Verdict.REGRESSION, Verdict.PAYS_OFF]
    assert [s.beats for s in got] == [False, False, True]
    assert got[2].delta == pytest.approx(0.5) and got[1].delta == pytest.approx(-0.5)
    assert got[2].p_holm == pytest.approx(min(1.0, 3 * 2 * 0.5**20))  # smallest of three p-values: x3 under Holm
    assert crossing(got) == 100


def test_judge_states_the_crossing_or_why_there_is_no_verdict() -> None:
    reference = _run("5shot", [1.0] * 20 + [0.0] * 20)
    tuned = [(25, _run("n25", [1.0] * 20 + [0.0] * 20)), (50, _run("n50", [1.0] * 40))]
    ref = judge("LoRA", "5-shot", reference, tuned, "accuracy", VerdictRules())
    assert [s.beats for s in ref.steps] == [False, True]
    assert ref.sentence.startswith("LoRA beats 5-shot from about 50 examples")
    corpus = judge("LoRA", "5-shot", reference, tuned, "bleu", VerdictRules())  # not a per-example score
    assert corpus.steps == ()
    assert corpus.sentence == "LoRA vs 5-shot: no paired verdict (bleu is not a per-example metric)"


# ------------------------------------------------------------------ the command line


def _args(tmp: Path, *extra: str) -> list[str]:
    return [
        f"results_dir={tmp / 'results'}", f"adapters_dir={tmp / 'adapters'}", f"cache.path={tmp / 'cache.sqlite'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}", *extra,
    ]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["sizes=[25,400]"], "sizes: 400 is larger than the train split of task classification (360 examples)"),
        (["task=nope"], "unknown task 'nope'"),
        (["model=nope"], "unknown model 'nope'"),
        (["model=gemini_flash"], "needs an HF model"),
        (["sizes=[8,8]"], "sizes=[8, 8]"),
        (['tune=["seed=3"]'], "the curve sets 'seed' itself"),
    ],
)
def test_user_mistakes_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], overrides: list[str], needle: str
) -> None:
    assert main(_args(tmp_path, *overrides)) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness.curve: error: ") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "results").exists() and not (tmp_path / "adapters").exists()  # nothing ran


def test_a_failed_curve_marks_its_parent_run_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The parent run is opened before any work; a failure (here: the cache path is under a file) marks it FAILED."""
    from mlflow.tracking import MlflowClient

    (tmp_path / "file").write_text("")
    args = _args(tmp_path, "sizes=[2]")
    args[2] = f"cache.path={tmp_path / 'file' / 'cache.sqlite'}"
    assert main(args) == 2
    assert "response cache" in capsys.readouterr().err
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [(r.data.tags.get("harness.kind"), r.info.status) for r in runs] == [("curve", "FAILED")]
    assert "response cache" in runs[0].data.tags["harness.failure"]


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "usage: python -m harness.curve" in capsys.readouterr().out


@pytest.mark.slow
def test_tiny_curve_end_to_end_on_gemma(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlflow.tracking import MlflowClient

    args = _args(tmp_path, "task.limit=4", "task.shots=1", "sizes=[2,4]", "seed=1234",
                 'tune=["batch_size=2","lora.rank=2","lora.alpha=4","lora.target_modules=[q_proj]"]')
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "LoRA beats 1-shot" in out and "LoRA beats 0-shot" in out
    assert ("not within the sizes tried" in out) or ("from about" in out)
    png = next((tmp_path / "results" / "curve" / "classification" / "gemma3_270m").glob("*/curve.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = json.loads((png.parent / "curve.json").read_text())
    assert [r["model"] for r in table["rows"]] == ["1-shot", "0-shot", "n=2", "n=4"]
    assert table["crossing"][0].startswith("LoRA beats 1-shot")

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    parent = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                "tags.`harness.kind` = 'curve'")
    assert len(parent) == 1 and parent[0].info.status == "FINISHED"
    run = parent[0]
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"curve.png", "curve.json", "curve_table.json"}
    assert run.data.tags["harness.curve.crossing"].startswith("LoRA beats 1-shot")
    assert "harness.model" not in run.data.tags  # would make compare mistake it for an evaluation run
    evals = [client.get_run(r) for r in run.data.tags["harness.curve.runs"].split(",")]
    assert len(evals) == 4 and all(r.data.tags["harness.task"] == "classification" for r in evals)
    children = client.search_runs([run.info.experiment_id], f"tags.`mlflow.parentRunId` = '{run.info.run_id}'")
    kinds = sorted(r.data.tags.get("harness.kind", "evaluation") for r in children)
    assert kinds == ["evaluation"] * 4 + ["tuning"] * 2  # 0-shot, 1-shot, two tuned variants; two tunes

    t0 = time.perf_counter()
    assert main(args) == 0  # cached adapters and responses: no training, no generation
    again = time.perf_counter() - t0
    rerun = json.loads(next(p for p in sorted(png.parent.parent.glob("*/curve.json")) if p.parent != png.parent)
                       .read_text())
    assert all(r["adapter_reused"] for r in rerun["rows"] if r["train_examples"])
    assert [r["value"] for r in rerun["rows"]] == [r["value"] for r in table["rows"]]
    assert again < 30, again
