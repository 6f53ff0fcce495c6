"""MLflow 3's own GenAI views show the demonstration's runs: a real `mlflow server`, real headless Chromium.

The store (tests/ui/demo_store.py) holds base 0-shot, base 3-shot and tuned runs of the
demonstration's task with replayed outputs, so what each view must show is known from the
replay design alone: item i of the test file is answered right by a run when i % N < its
`correct`, otherwise with `demo_store.wrong_label`. Assertions read the page's visible text
(`innerText`) after the UI's JavaScript rendered it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from mlflow.tracking import MlflowClient

from tests.helpers import ROOT
from tests.ui import demo_store
from tests.ui.conftest import UI, shots

ROW_TEXTS = """[...document.querySelectorAll('[role="row"]')].map(r => r.innerText)"""


def _fields(ui: UI) -> dict[str, str]:
    exp = MlflowClient(tracking_uri=ui.url).get_experiment_by_name("harness")
    assert exp is not None
    return {"exp": exp.experiment_id, "tuned": ui.ids["tuned 0-shot"], "basek": ui.ids["base 3-shot"],
            "base0": ui.ids["base 0-shot"]}  # fmt: skip


def _expected_output(run: demo_store.DemoRun, index: int, label: str) -> str:
    return label if index % demo_store.N < run.correct else demo_store.wrong_label(label)


def _by_input() -> dict[str, tuple[int, str]]:
    """Test item text -> (position in the file, reference label)."""
    return {r["text"]: (i, r["label"]) for i, r in enumerate(demo_store.rows())}


def test_landing_page_counts_the_traces_and_evaluation_runs_lists_our_runs(ui: UI) -> None:
    f = _fields(ui)
    text = shots.show(ui.browser, ui.url, shots.View("overview", "/experiments/{exp}", ("Traces", "Latency")), f)
    # one trace per scored example: three runs of N examples each
    assert re.search(rf"(^|\n)Traces\n{3 * demo_store.N}\n", text), text[:2000]
    tuned = f"banking77_demo/{demo_store.TUNED}"
    base = f"banking77_demo/{demo_store.BASE}"
    shots.show(ui.browser, ui.url, shots.View(
        "runs", "/experiments/{exp}/evaluation-runs", ("Dataset", tuned, "banking77_demo-test")), f)  # fmt: skip
    rows = [r.split("\n") for r in ui.browser.js(ROW_TEXTS) if "\nEval\n" in r]  # the header row has no type
    names = sorted(next(x for x in r if x.startswith("banking77_demo/")) for r in rows)
    assert names == [base, base, tuned], rows
    for row in rows:  # every run shows its dataset input in the Dataset column
        assert any(cell.startswith("banking77_demo-test") for cell in row), row


def test_comparing_base_and_tuned_shows_each_examples_outputs_and_assessments_side_by_side(ui: UI) -> None:
    tuned, basek = demo_store.RUNS[2], demo_store.RUNS[1]
    text = shots.show(ui.browser, ui.url, shots.View(
        "compare", shots.COMPARE, ("Comparing", "Assessments", "accuracy", "Expected")), _fields(ui))  # fmt: skip
    # the header names the selected (tuned) run, then the run it is compared to (each after its colour)
    words = " ".join(w for w in text.split() if not re.fullmatch(r"#[0-9a-f]{6}", w))
    assert f"Comparing banking77_demo/{tuned.model} to banking77_demo/{basek.model} " in words, text[:3000]
    items = _by_input()
    rows = [r.split("\n") for r in ui.browser.js(ROW_TEXTS)]
    examples = [r for r in rows if r[0] in items]
    assert len(examples) == demo_store.N, rows
    flipped = 0
    for row in examples:
        index, label = items[row[0]]
        want_tuned, want_base = _expected_output(tuned, index, label), _expected_output(basek, index, label)
        trace_ids = [x for x in row if x.startswith("tr-")]
        assert len(trace_ids) == 2, row  # one trace of each run on the same row
        after = row[row.index(trace_ids[1]) + 1:]
        # outputs (tuned, base), the reference for each, then accuracy for each, as 1 / 0
        assert after[:6] == [want_tuned, want_base, label, label,
                             str(int(want_tuned == label)), str(int(want_base == label))], row  # fmt: skip
        flipped += want_tuned == label and want_base != label
    assert flipped > 0  # the replay design makes the tuned run win on some item of any N-subset


def test_opening_one_example_compares_the_two_traces(ui: UI) -> None:
    tuned, basek = demo_store.RUNS[2], demo_store.RUNS[1]
    items = _by_input()
    f = _fields(ui)
    shots.show(ui.browser, ui.url, shots.View("compare", shots.COMPARE, ("Assessments",)), f)
    rows = [r.split("\n")[0] for r in ui.browser.js(ROW_TEXTS)]
    text_in = next(t for t in rows if t in items and _expected_output(tuned, *items[t]) != _expected_output(
        basek, *items[t]))  # fmt: skip
    ui.browser.click_text(text_in)
    # the dialog opens first and fills in when both traces have loaded: wait for both outputs
    dialog = ui.browser.wait_js("""(() => { const t = [...document.querySelectorAll('[role="dialog"]')]
        .map(d => d.innerText).join('\\n'); return t.split('\\nOutputs\\n').length === 3 ? t : ''; })()""",
                                60, "example")  # fmt: skip
    index, label = items[text_in]
    assert "Comparing 2 traces" in dialog
    # both traces' inputs and outputs; the 3-shot prompt carries three worked examples
    assert dialog.count(text_in) >= 2, dialog[:3000]
    lines = dialog.split("\n")
    outputs = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line == "Outputs"]
    assert outputs == [_expected_output(tuned, index, label), _expected_output(basek, index, label)], dialog[-3000:]


def test_run_page_shows_the_dataset_input_and_the_prompt_version(ui: UI) -> None:
    run = MlflowClient(tracking_uri=ui.url).get_run(ui.ids["tuned 0-shot"])
    fingerprint = run.data.tags["harness.dataset_fingerprint"]
    text = shots.show(ui.browser, ui.url, shots.View(
        "run", "/experiments/{exp}/runs/{tuned}", ("Registered prompts", "Datasets")), _fields(ui))  # fmt: skip
    # one template, three runs of unchanged content: the registry holds version 1 only
    assert "Registered prompts\nharness.banking77_demo.prompt (v1)" in text, text[:3000]
    shown = re.search(r"banking77_demo-test \(([0-9a-f]+)\)", text)
    assert shown and fingerprint.startswith(shown.group(1)) and len(shown.group(1)) >= 8, (shown, fingerprint)


def test_screenshot_script_writes_pngs_of_the_views(ui: UI) -> None:
    out = ui.work / "img"
    # the running server of the fixture (--url): serving a store is the fixture's own mlflow_server
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/screenshots.py"), "--url", ui.url,
                           "--out", str(out), "--views", "runs,run"],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("runs", "run"):
        data = (out / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and 10_000 < len(data) < 300_000, len(data)
        width = int.from_bytes(data[16:20], "big")  # IHDR: the scaled width
        assert width == shots.WIDTH_OUT


def test_screenshot_script_bad_input_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for args, needle in ((["--store", str(tmp_path / "none.db")], "no MLflow store at"),
                         (["--store", str(tmp_path / "none.db"), "--views", "nope"], "unknown view(s) ['nope']")):
        proc = subprocess.run([sys.executable, str(ROOT / "scripts/screenshots.py"), *args, "--out", str(tmp_path)],
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("screenshots: error: "), proc.stderr
        assert needle in lines[0], lines


def test_screenshot_script_finds_the_demo_runs_by_their_tags(ui: UI) -> None:
    runs = shots.find_demo_runs(ui.url, "harness")
    assert (runs.base0.info.run_id, runs.basek.info.run_id, runs.tuned.info.run_id) == (
        ui.ids["base 0-shot"], ui.ids["base 3-shot"], ui.ids["tuned 0-shot"])
    assert runs.n_traces == 3 * demo_store.N and runs.prompt == "harness.banking77_demo.prompt (v1)"
    ex = runs.example  # an item the tuned run gets right and the 3-shot base gets wrong
    _, label = _by_input()[ex.input]
    assert (ex.tuned_output, ex.base_output) == (label, demo_store.wrong_label(label))
    assert (ex.tuned_score, ex.base_score) == (1.0, 0.0)
    assert json.dumps(runs.fields())  # every field is text the views are formatted with
