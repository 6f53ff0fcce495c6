"""Suite-wide options. `--real-api` opts in to tests that call the real Gemini API."""

from __future__ import annotations

import os

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
