"""The MLflow UI shows variants side by side: a real `mlflow server` and real headless Chromium.

The classic run comparison (`#/compare-runs`) over the demonstration-shaped store of
tests/ui/conftest.py: the k-shot base and the tuned variant, their metrics side by side.
Skips with a reason when Chromium is absent (a user's machine); `./dev test` installs it,
so CI always runs it.
"""

from __future__ import annotations

import json
import urllib.parse

from mlflow.tracking import MlflowClient

from tests.ui import demo_store
from tests.ui.conftest import UI, shots


def test_mlflow_ui_compares_variants_side_by_side(ui: UI) -> None:
    client = MlflowClient(tracking_uri=ui.url)
    exp = client.get_experiment_by_name("harness")
    assert exp is not None
    ids = [ui.ids["base 3-shot"], ui.ids["tuned 0-shot"]]
    query = urllib.parse.urlencode({"runs": json.dumps(ids), "experiments": json.dumps([exp.experiment_id])})
    base, tuned = f"banking77_demo/{demo_store.BASE}", f"banking77_demo/{demo_store.TUNED}"
    # the page rendered by the UI's JavaScript names both runs and the compared metric
    text = shots.show(ui.browser, ui.url, shots.View("compare-runs", f"/compare-runs?{query}",
                                                     ("Comparing 2 Runs", tuned, "accuracy")), {})  # fmt: skip
    assert base in text.replace(tuned, "")
    shot = ui.browser.screenshot(ui.work / "compare-runs.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
