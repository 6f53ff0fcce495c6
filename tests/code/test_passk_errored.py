"""pass@k over the same items as pass@1 when a request errored (issue 16, item 3).

Expected values by hand from the unbiased estimator, 1 - C(n-c, k) / C(n, k).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.compare import runs as rn
from harness.config.load import compose_run
from harness.core.records import BackendError, ErrorKind, Response
from harness.data.samples import load_task_data
from harness.run.aggregate import per_example_metrics
from harness.run.plugins import load_plugins
from harness.scorers.base import SCORERS, ScoreInput, ScoringContext

load_plugins()
ALLOW = ScoringContext(allow_code_execution=True, workers=2)


def _task(*overrides: str) -> Any:
    model = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "model").glob("*.yaml"))[0]
    return compose_run(["task=code_mini", f"model={model}", "task.mode=completion", *overrides]).task


def test_errored_and_short_replies_count_as_failures_for_every_k() -> None:
    t = _task("task.n_samples=3", "task.k=[1,2,3,5]")
    s0, s1, s2 = load_task_data(t).test[:3]
    wrong = "    return None\n"
    items = [
        ScoreInput(s0, Response(texts=(s0.target, wrong, wrong))),  # n=3, c=1
        ScoreInput(s1, Response(finish_reason="error", error=BackendError(ErrorKind.TRANSIENT, "503"))),
        ScoreInput(s2, Response(texts=(s2.target,))),  # 1 of the 3 asked for came back: 2 missing = failed
    ]
    scores = SCORERS.get("code_exec")(items, t, ALLOW)
    # n=3, c=1: pass@1 = 1/3; pass@2 = 1 - C(2,2)/C(3,2) = 2/3; pass@3 = 1; pass@5 undefined (k > n_samples)
    assert scores[0].values == pytest.approx({"pass@1": 1 / 3, "pass@2": 2 / 3, "pass@3": 1.0})
    assert scores[1].values == {"pass@1": 0.0, "pass@2": 0.0, "pass@3": 0.0}
    assert scores[1].details["n"] == 0 and scores[1].details["missing"] == 3
    assert scores[2].values == pytest.approx(scores[0].values)
    assert scores[2].details["missing"] == 2

    # metrics.json's means are over all three items, as the comparison reads them (a missing score = 0)
    metrics = per_example_metrics(scores, resamples=0)
    assert metrics["pass@1"].value == pytest.approx((1 / 3 + 0 + 1 / 3) / 3)
    assert metrics["pass@2"].value == pytest.approx((2 / 3 + 0 + 2 / 3) / 3)
    assert metrics["pass@3"].value == pytest.approx((1 + 0 + 1) / 3)
    rows = tuple(rn.ExampleRow(s.sample.id, 0, 0, 0, 0, None, sc.values) for s, sc in zip(items, scores, strict=True))
    run = rn.RunData("r", "r", {}, {}, rows)
    aligned = rn.align(run, run)
    for name in ("pass@1", "pass@2", "pass@3"):
        assert float(np.mean(aligned.candidate[name])) == pytest.approx(metrics[name].value), name
