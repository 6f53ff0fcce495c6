"""A cached re-run re-scores without the heavy libraries: no model, no sklearn, no matplotlib, no datasets.

benchmarks/bench_cached_rerun.py measures the wall time (docs/benchmarks.md); these
tests pin what makes it cheap, so an import that creeps back onto the path fails here.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.config.load import compose_run
from harness.core.records import Response, Sample, Score
from harness.run.aggregate import point_value
from harness.run.plugins import load_plugins
from harness.scorers.base import CORPUS_METRICS, CORPUS_RESAMPLED, ScoreInput

load_plugins()  # registers the corpus metrics the parametrization lists

HEAVY = ("sklearn", "scipy.stats", "datasets", "matplotlib", "torch", "transformers", "rouge_score", "nltk")

RUN = f"""
import json, sys
HEAVY = {HEAVY!r}
from harness.config.load import compose_run
from harness.run.runner import evaluate
result = evaluate(compose_run(sys.argv[1:]), quiet=True)
print(json.dumps({{"heavy": sorted(m for m in HEAVY if m in sys.modules), "dir": result.output_dir,
                   "metrics": result.flat_metrics()}}))
"""


def run_cell(tmp_path: Path, *overrides: str) -> dict:
    args = [
        "task=classification", "task.limit=12", "model=replay", f"model.path={tmp_path / 'replay.jsonl'}",
        f"results_dir={tmp_path / 'results'}", f"cache.path={tmp_path / 'cache.sqlite'}",
        f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}", "progress=false", *overrides,
    ]
    proc = subprocess.run([sys.executable, "-c", RUN, *args], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cached_rerun_imports_no_heavy_library_and_reuses_the_figure(tmp_path: Path) -> None:
    from harness.data.samples import load_task_data

    samples = load_task_data(compose_run(["task=classification", "task.limit=12"]).task).test
    labels = sorted({s.target for s in samples})
    # some right, some wrong, one unparseable: every cell of the confusion matrix is exercised
    rows = [{"id": s.id, "output": s.target if i % 3 else (labels[(labels.index(s.target) + 1) % len(labels)]
                                                             if i % 2 else "no idea")}
            for i, s in enumerate(samples)]
    (tmp_path / "replay.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    first = run_cell(tmp_path)
    again = run_cell(tmp_path)
    assert again["heavy"] == [], again["heavy"]
    assert again["metrics"] == first["metrics"]  # the same numbers, from the cache
    png = [Path(r["dir"]) / "confusion_matrix.png" for r in (first, again)]
    assert png[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png[1].read_bytes() == png[0].read_bytes()
    assert len(list((tmp_path / "results" / ".cache" / "figures").glob("*.png"))) == 1

    # other counts: a new drawing, not the kept one
    (tmp_path / "replay.jsonl").write_text("".join(json.dumps({"id": s.id, "output": s.target}) + "\n"
                                                   for s in samples))
    perfect = run_cell(tmp_path)
    assert perfect["metrics"]["accuracy"] == 1.0
    assert (Path(perfect["dir"]) / "confusion_matrix.png").read_bytes() != png[0].read_bytes()
    assert len(list((tmp_path / "results" / ".cache" / "figures").glob("*.png"))) == 2


def _items(preds: list[str], gold: list[str]) -> tuple[list[ScoreInput], list[Score]]:
    pairs = enumerate(zip(preds, gold, strict=True))
    items = [ScoreInput(Sample(str(i), "x", (g,)), Response((p,))) for i, (p, g) in pairs]
    return items, [Score({}, {"predicted": p}) for p in preds]


@pytest.mark.parametrize("name", sorted(CORPUS_RESAMPLED.names()))
def test_point_value_from_the_vectorized_form_equals_the_plain_metric(name: str) -> None:
    """The run reports the vectorized form on the identity row; the plain form (sklearn, sacrebleu) agrees."""
    rng = np.random.default_rng(7)
    labels = ["negative", "neutral", "positive", "unused"]
    words = ["the cat sat", "on the mat", "a dog ran", "far away", "the end"]
    gold = [str(rng.choice(labels[:3])) for _ in range(40)]
    preds = [str(rng.choice([*labels[:3], "<invalid>"])) if name == "classification_report"
             else " ".join(rng.choice(words, 3)) for _ in gold]
    refs = gold if name == "classification_report" else [" ".join(rng.choice(words, 3)) for _ in gold]
    items, scores = _items(preds, refs)
    task = compose_run(["task=classification", f"task.labels=[{','.join(labels)}]"]).task
    plain = CORPUS_METRICS.get(name)(items, scores, task)
    fast = point_value(name, CORPUS_METRICS.get(name), items, scores, task)
    assert fast.keys() == plain.keys()
    assert all(math.isclose(fast[k], plain[k], rel_tol=1e-12, abs_tol=1e-12) for k in plain), (fast, plain)
