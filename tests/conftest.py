"""Suite-wide options. `--real-api` opts in to tests that call the real Gemini API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--real-api", action="store_true", help="run @real_api tests (also needs GEMINI_API_KEY)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--real-api") and os.environ.get("GEMINI_API_KEY"):
        return
    skip = pytest.mark.skip(reason="real API: needs --real-api and GEMINI_API_KEY")
    for item in items:
        if "real_api" in item.keywords:
            item.add_marker(skip)


SHARED_DATA = Path(os.environ.get("HARNESS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip with the reason when this clone has none (CI always has it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared benchmark data at {SHARED_DATA} (absent in a user's clone)")
    return SHARED_DATA
