"""One demo-shaped store, one real `mlflow server` and one headless Chromium for every UI test.

Built once per package (starting a server and a browser costs seconds): the store holds the
demonstration's three evaluations with replayed outputs (tests/ui/demo_store.py), the server
and the browser are the ones scripts/screenshots.py uses. Skips with a reason when Chromium
is absent (a user's machine); `./dev test` installs it, so CI always runs these tests.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.ui import demo_store


def load_screenshots() -> ModuleType:
    """scripts/screenshots.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("harness_screenshots", ROOT / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


shots = load_screenshots()
CHROMIUM = shots.find_chromium()


@dataclass(frozen=True)
class UI:
    """The store, the server's URL, the browser and the runs (label -> run id, as demo_store.RUNS)."""

    db: Path
    url: str
    browser: Any
    ids: dict[str, str]
    work: Path


@pytest.fixture(scope="package")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UI]:
    if CHROMIUM is None:
        pytest.skip("needs Chromium (apt-get install chromium; ./dev test installs it)")
    tmp = tmp_path_factory.mktemp("ui")
    db, ids = demo_store.build(tmp)
    # tall enough that the comparison table renders all N examples without scrolling
    with shots.mlflow_server(db) as url, shots.Browser(CHROMIUM, tmp / "chromium", height=1600) as browser:
        yield UI(db, url, browser, ids, tmp)
