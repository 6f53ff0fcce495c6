#!/usr/bin/env python
"""Regenerate the MLflow UI screenshots in docs/img/ from a store of the demonstration's runs.

    .venv/bin/python scripts/screenshots.py [--store mlflow.db] [--out docs/img]
        [--experiment harness] [--views overview,runs,...] [--url http://host:port]

The store defaults to ./mlflow.db, which `./dev run` writes. The script copies it to a
temporary folder (your store is never touched), serves the copy with a real `mlflow server`
on a free local port (or uses the running server given by --url), opens each view in
headless Chromium through the DevTools protocol, waits until the view shows what it should
and saves one PNG per view (1400 pixels wide, 256 colours):

    overview.png         the experiment's landing page: trace count, latency, errors
    runs.png             the evaluation runs list with each run's dataset
    compare.png          tuned vs base k-shot, example by example: both outputs, the
                         reference and both runs' assessments on one row
    compare-example.png  one example the tuned run gets right and the base gets wrong,
                         its two traces side by side (inputs, prompts, outputs)
    run.png              the tuned run's page: its dataset input and prompt version

It takes the latest finished tuned 0-shot run and the latest base 0-shot and k-shot runs of
the same task and base model, by their tags (`harness.variant`, `harness.shots`,
`harness.base_model`), as the demonstration writes them. A view that does not show what it
should within the time limit is one error line naming the view and the missing text (exit
code 2), as are a missing store and a store without those runs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROG = "screenshots"
WIDTH, HEIGHT = 1920, 1000  # the browser window: wide enough for both runs' columns and the assessments
WIDTH_OUT = 1400  # PNGs are scaled to this width
# UI state a first visit would show over the views: the assistant panel and the "Detect Issues" tip
QUIET_UI = {
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
    "mlflow.assistant.panelOpen_v1": "false",
    "mlflow.detectIssues.guidanceShown_v1": "true",
}


class ScreenshotError(Exception):
    """A user-facing failure: one line, exit code 2."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout: float, what: str) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return bytes(resp.read())
        except OSError:
            if time.monotonic() > deadline:
                raise ScreenshotError(f"{what} did not come up within {timeout:.0f}s ({url})") from None
            time.sleep(0.3)


@contextlib.contextmanager
def mlflow_server(db: Path, timeout: float = 120) -> Iterator[str]:
    """A real `mlflow server` over the SQLite store `db`; yields its base URL."""
    port = free_port()
    # artifacts of runs in `db` keep their own absolute locations; new ones would go to a temp folder
    artifacts = db.parent / "mlartifacts"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{db}",
         "--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/health", timeout, "mlflow server")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Browser:
    """Headless Chromium driven through the DevTools protocol (one page, one websocket)."""

    def __init__(self, chromium: str, profile: Path, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.chromium, self.profile, self.width, self.height = chromium, profile, width, height
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._stack = contextlib.ExitStack()
        self._next = 0

    def __enter__(self) -> Browser:
        from websockets.sync.client import connect

        port = free_port()
        self._proc = subprocess.Popen(
            [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_http(f"http://127.0.0.1:{port}/json/version", 60, "chromium")
            pages = json.loads(_wait_http(f"http://127.0.0.1:{port}/json/list", 10, "chromium"))
            page = next(p for p in pages if p.get("type") == "page")
            self._ws = self._stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None))
            self.call("Page.enable")
            self.call("Page.addScriptToEvaluateOnNewDocument", source="".join(
                f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in QUIET_UI.items()))
            self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                      deviceScaleFactor=1, mobile=False)  # fmt: skip
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer (events in between are dropped)."""
        self._next += 1
        self._ws.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv(timeout=60))
            if msg.get("id") == self._next:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        out = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in out:
            raise RuntimeError(f"{expression[:80]}: {out['exceptionDetails'].get('text')}")
        return out.get("result", {}).get("value")

    def goto(self, url: str) -> None:
        """Load `url` as a fresh document: the UI reads a route's query only when it loads."""
        self.call("Page.navigate", url="about:blank")
        self.call("Page.navigate", url=url)

    def text(self) -> str:
        """The page's visible text (what a reader sees)."""
        return str(self.js("document.body ? document.body.innerText : ''") or "")

    def wait_for(self, needles: Sequence[str], timeout: float = 60, what: str = "page") -> str:
        """Poll the visible text until it contains every needle; returns it. ScreenshotError on timeout."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(n in text for n in needles):
                time.sleep(0.5)  # let the last requests' results paint (images, charts)
                return self.text()
            time.sleep(0.3)
        missing = [n for n in needles if n not in text]
        raise ScreenshotError(f"{what}: did not show {missing} within {timeout:.0f}s")

    def wait_js(self, expression: str, timeout: float = 60, what: str = "page") -> Any:
        """Poll a JavaScript expression until its value is truthy; returns it. ScreenshotError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.3)
        raise ScreenshotError(f"{what}: {expression[:80]} stayed false for {timeout:.0f}s")

    def click_text(self, text: str, selector: str = "*") -> None:
        """Click the innermost element matching `selector` whose visible text is exactly `text`."""
        found = self.js(
            f"(() => {{ const want = {json.dumps(text)};"
            f" const els = [...document.querySelectorAll({json.dumps(selector)})]"
            "   .filter(e => (e.innerText || '').trim() === want);"
            " const el = els[els.length - 1]; if (!el) return false; el.scrollIntoView({block: 'center'});"
            " el.click(); return true; })()"
        )
        if not found:
            raise ScreenshotError(f"nothing to click with the text {text!r}")

    def screenshot(self, path: Path, width_out: int = WIDTH_OUT) -> Path:
        """The viewport as a PNG, scaled to `width_out` pixels wide and reduced to 256 colours (small files)."""
        from PIL import Image

        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        img = Image.open(io.BytesIO(data)).convert("RGB")
        if img.width > width_out:
            img = img.resize((width_out, round(img.height * width_out / img.width)), Image.Resampling.LANCZOS)
        path.parent.mkdir(parents=True, exist_ok=True)
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        return path


@dataclass(frozen=True)
class Example:
    """One test item as both runs' traces show it: request text, outputs, primary scores."""

    sample_id: str
    input: str
    tuned_output: str
    base_output: str
    tuned_score: float | None
    base_score: float | None


@dataclass(frozen=True)
class DemoRuns:
    """The demonstration's three evaluation runs in one experiment, and what their views must show."""

    experiment_id: str
    base0: Any  # mlflow.entities.Run
    basek: Any
    tuned: Any
    n_traces: int  # of the three runs together
    dataset: str  # the tuned run's dataset input as the run page shows it: "name (digest)"
    prompt: str  # its prompt version as the run page shows it: "name (vN)"
    example: Example  # the first item the tuned run gets right and the k-shot base gets wrong, if any

    def name(self, run: Any) -> str:
        return str(run.info.run_name)

    def fields(self) -> dict[str, str]:
        """Values the views' routes and expected texts are formatted with."""
        return {"exp": self.experiment_id, "base0": self.base0.info.run_id, "basek": self.basek.info.run_id,
                "tuned": self.tuned.info.run_id, "base0_name": self.name(self.base0),
                "basek_name": self.name(self.basek), "tuned_name": self.name(self.tuned),
                "dataset": self.dataset, "prompt": self.prompt, "input": self.example.input,
                "tuned_output": self.example.tuned_output, "base_output": self.example.base_output}  # fmt: skip


def _tag(run: Any, key: str) -> str:
    return str(run.data.tags.get(f"harness.{key}", ""))


def find_demo_runs(tracking_uri: str, experiment: str) -> DemoRuns:
    """The latest tuned run and the latest base 0-shot and k-shot runs of the same task and base model."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise ScreenshotError(f"no experiment named {experiment!r} in the store (--experiment)")
    runs = [r for r in client.search_runs([exp.experiment_id], "attributes.status = 'FINISHED'",
                                          order_by=["attributes.start_time DESC"], max_results=1000)
            if _tag(r, "task") and _tag(r, "kind") in ("", "eval")]  # fmt: skip
    tuned = next((r for r in runs if _tag(r, "variant") not in ("", "base") and _tag(r, "shots") == "0"), None)
    if tuned is None:
        raise ScreenshotError(f"no finished tuned 0-shot evaluation run in experiment {experiment!r} "
                              "(run ./dev run first, or point --store at a store that has one)")  # fmt: skip
    same = [r for r in runs if _tag(r, "variant") == "base" and _tag(r, "task") == _tag(tuned, "task")
            and _tag(r, "model") == (_tag(tuned, "base_model") or _tag(r, "model"))]  # fmt: skip
    base0 = next((r for r in same if _tag(r, "shots") == "0"), None)
    basek = next((r for r in same if _tag(r, "shots") not in ("", "0")), None)
    if base0 is None or basek is None:
        which = "0-shot" if base0 is None else "k-shot"
        raise ScreenshotError(f"no finished base {which} evaluation run of {_tag(tuned, 'base_model')!r} on "
                              f"{_tag(tuned, 'task')!r} in experiment {experiment!r}")  # fmt: skip
    inputs = tuned.inputs.dataset_inputs if tuned.inputs else []
    if not inputs or not _tag(tuned, "prompt").startswith("prompts:/"):
        raise ScreenshotError(f"run {tuned.info.run_id} has no dataset input or prompt version "
                              "(written by this harness since issue 13; re-run ./dev run)")  # fmt: skip
    name, version = _tag(tuned, "prompt").removeprefix("prompts:/").rsplit("/", 1)
    ds = inputs[0].dataset
    n_traces = sum(int(_tag(r, "traces") or 0) for r in (base0, basek, tuned))
    example = _flipped_example(client, exp.experiment_id, tuned, basek)
    return DemoRuns(exp.experiment_id, base0, basek, tuned, n_traces, f"{ds.name} ({ds.digest})",
                    f"{name} (v{version})", example)  # fmt: skip


def _examples(client: Any, experiment_id: str, run: Any) -> dict[str, tuple[str, str, float | None]]:
    """sample id -> (input text, output, primary score) from the run's traces."""
    primary = _tag(run, "primary_metric")
    out: dict[str, tuple[str, str, float | None]] = {}
    token = None
    while True:
        page = client.search_traces(locations=[experiment_id], run_id=run.info.run_id, include_spans=False,
                                    max_results=500, page_token=token)  # fmt: skip
        for t in page:
            request = json.loads(t.info.request_preview or "{}")
            scores = [a.value for a in t.info.assessments if a.name == primary and a.feedback is not None]
            out[str(t.info.tags.get("harness.sample_id", ""))] = (
                str(request.get("input", "")), (t.info.response_preview or "").strip(),
                float(scores[0]) if scores else None)  # fmt: skip
        token = page.token
        if not token:
            return out


def _flipped_example(client: Any, experiment_id: str, tuned: Any, base: Any) -> Example:
    a, b = _examples(client, experiment_id, tuned), _examples(client, experiment_id, base)
    shared = sorted(set(a) & set(b))
    if not shared:
        raise ScreenshotError(f"runs {tuned.info.run_id} and {base.info.run_id} have no traced example in common")
    pick = next((i for i in shared if (a[i][2] or 0) > (b[i][2] or 0)), shared[0])
    return Example(pick, a[pick][0], a[pick][1], b[pick][1], a[pick][2], b[pick][2])


@dataclass(frozen=True)
class View:
    """One screenshot: a hash route of the UI, the texts it must show, optionally a click first."""

    name: str  # PNG file stem
    route: str  # formatted with DemoRuns.fields()
    expect: tuple[str, ...]  # each formatted too
    click: str | None = None  # text of an element to click once the route shows `expect`
    expect_after: tuple[str, ...] = ()


COMPARE = "/experiments/{exp}/evaluation-runs?selectedRunUuid={tuned}&compareToRunUuid={basek}"
VIEWS = (
    View("overview", "/experiments/{exp}", ("Traces", "Latency", "Errors")),
    View("runs", "/experiments/{exp}/evaluation-runs", ("{tuned_name}", "{basek_name}", "{base0_name}", "Dataset")),
    View("compare", COMPARE, ("Comparing", "{tuned_name}", "{basek_name}", "Assessments", "{input}")),
    View("compare-example", COMPARE, ("Comparing", "{input}"), click="{input}",
         expect_after=("Comparing 2 traces", "Outputs", "{tuned_output}", "{base_output}")),
    View("run", "/experiments/{exp}/runs/{tuned}", ("Registered prompts", "{prompt}", "Datasets", "{dataset}")),
)


def show(browser: Browser, base_url: str, view: View, fields: dict[str, str], timeout: float = 90) -> str:
    """Open `view` and wait until it shows what it must; returns the page's visible text."""
    browser.goto(f"{base_url}/#{view.route.format(**fields)}")
    text = browser.wait_for([e.format(**fields) for e in view.expect], timeout, view.name)
    if view.click is not None:
        browser.click_text(view.click.format(**fields))
        text = browser.wait_for([e.format(**fields) for e in view.expect_after], timeout, view.name)
    return text


def shoot(url: str, out: Path, experiment: str, chromium: str, work: Path,
          views: Sequence[View] = VIEWS) -> list[Path]:  # fmt: skip
    """Open each view on the tracking server at `url` and write its PNG into `out`; returns the PNGs."""
    runs = find_demo_runs(url, experiment)
    fields = runs.fields()
    written = []
    with Browser(chromium, work / "chromium") as browser:
        for view in views:
            show(browser, url, view, fields)
            written.append(browser.screenshot(out / f"{view.name}.png"))
            print(f"{out / view.name}.png", flush=True)
    return written


def shoot_store(db: Path, out: Path, experiment: str, chromium: str, work: Path,
                views: Sequence[View] = VIEWS) -> list[Path]:  # fmt: skip
    """Serve a copy of the SQLite store `db` with `mlflow server`, then `shoot` it."""
    copy = work / "mlflow.db"
    shutil.copyfile(db, copy)  # the server may migrate or write; the user's store stays as it was
    with mlflow_server(copy) as url:
        return shoot(url, out, experiment, chromium, work, views)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("mlflow.db"), help="SQLite MLflow store (./mlflow.db)")
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="folder for the PNGs (docs/img)")
    parser.add_argument("--experiment", default="harness", help="experiment name (harness)")
    parser.add_argument("--url", help="a running tracking server to shoot instead of serving --store")
    parser.add_argument("--views", default=",".join(v.name for v in VIEWS),
                        help="comma-separated views to shoot (default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        known = {v.name: v for v in VIEWS}
        wanted = [name.strip() for name in args.views.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in known]
        if unknown or not wanted:
            raise ScreenshotError(f"unknown view(s) {unknown} (--views); known: {', '.join(known)}")
        if args.url is None and not args.store.is_file():
            raise ScreenshotError(f"no MLflow store at {args.store} (--store; ./dev run writes ./mlflow.db)")
        chromium = find_chromium()
        if chromium is None:
            raise ScreenshotError("needs Chromium (apt-get install chromium)")
        with tempfile.TemporaryDirectory(prefix="screenshots-") as work:
            views = [known[n] for n in wanted]
            if args.url:
                shoot(args.url.rstrip("/"), args.out, args.experiment, chromium, Path(work), views)
            else:
                shoot_store(args.store.resolve(), args.out, args.experiment, chromium, Path(work), views)
    except ScreenshotError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
