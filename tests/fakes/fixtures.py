"""Pytest fixtures for the fake model servers (imported by tests/backends/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import gemini_server, openai_server

PLANTED_KEY = "AIzaPLANTED-do-not-leak-0123456789"


@pytest.fixture
def gemini_fake() -> Iterator[gemini_server.FakeGemini]:
    """A fake Gemini REST server on 127.0.0.1:<free port>; `.url` is its base URL."""
    state, server = gemini_server.start()
    try:
        yield state
    finally:
        gemini_server.stop(server)


@pytest.fixture
def openai_fake() -> Iterator[openai_server.FakeOpenAI]:
    """A fake OpenAI-compatible server; `.url` ends in /v1."""
    state, server = openai_server.start()
    try:
        yield state
    finally:
        openai_server.stop(server)


@pytest.fixture
def planted_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """GEMINI_API_KEY set to a recognisable secret; GOOGLE_API_KEY unset so it wins."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", PLANTED_KEY)
    return PLANTED_KEY


def compose_model(name: str, **overrides: object) -> object:
    """conf/model/<name>.yaml composed through Hydra (schema-validated), as its dataclass."""
    import os

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.config import store

    store.register()
    conf_dir = os.path.join(os.path.dirname(__file__), "..", "..", "conf")
    args = [f"model.{k}={v}" for k, v in overrides.items()]
    with initialize_config_dir(os.path.abspath(conf_dir), version_base=None):
        cfg = compose(config_name=f"model/{name}", overrides=args)
    return OmegaConf.to_object(cfg.model)
