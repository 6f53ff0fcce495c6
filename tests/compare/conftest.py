"""Fixtures for comparison and gating tests: a real local MLflow store."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite-backed MLflow store per test module (creating one takes seconds)."""
    root: Path = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{root / 'mlflow.db'}"
