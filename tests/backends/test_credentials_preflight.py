"""Credentials are checked before any request and before an MLflow run starts (issue 16, item 10).

A Vertex tuned endpoint without Application Default Credentials and
model=gemini_flash without a key each give one line about credentials with
exit 2; the fake server sees no request and the MLflow store holds no run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow
import pytest

from harness.backends.gemini.client import check_credentials
from harness.config.schema import GeminiModelConfig
from harness.core.errors import ConfigError
from harness.run.runner import evaluate
from tests.fakes.gemini_server import FakeGemini
from tests.helpers import assert_one_line_error, isolated, run_cli, run_config

_CREDENTIAL_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS")


def no_credentials(tmp: Path) -> dict[str, str]:
    """An environment with no key and no ADC anywhere: no gcloud folder, no metadata-server probe."""
    env = {k: v for k, v in os.environ.items() if k not in _CREDENTIAL_VARS}
    env.update(HOME=str(tmp), CLOUDSDK_CONFIG=str(tmp / "gcloud"), NO_GCE_CHECK="True")
    return env


def n_runs(tmp: Path) -> int:
    db = tmp / "mlflow.db"
    if not db.exists():
        return 0
    client = mlflow.MlflowClient(f"sqlite:///{db}")
    return sum(len(client.search_runs([e.experiment_id])) for e in client.search_experiments())


@pytest.mark.parametrize(
    ("model", "needle"),
    [("gemini_tuned_vertex", "Google Cloud credentials"), ("gemini_flash", "GEMINI_API_KEY")],
)
def test_cli_reports_missing_credentials_before_any_request(
    model: str, needle: str, gemini_fake: FakeGemini, tmp_path: Path
) -> None:
    args = [f"model={model}", f"model.base_url={gemini_fake.url}", "task.limit=2", *isolated(tmp_path)]
    proc = run_cli(args, env=no_credentials(tmp_path), timeout=120)
    assert_one_line_error(proc, f"model {model}", needle)
    assert gemini_fake.log == []  # not one request sent
    assert n_runs(tmp_path) == 0  # and no MLflow run, FAILED or otherwise


def test_evaluate_without_a_key_leaves_no_failed_run(
    gemini_fake: FakeGemini, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    cfg = run_config(tmp_path, "model=gemini_flash", f"model.base_url={gemini_fake.url}", "task.limit=2")
    with pytest.raises(ConfigError, match="no Gemini API key"):
        evaluate(cfg, quiet=True)
    assert gemini_fake.log == [] and n_runs(tmp_path) == 0


def test_vertex_check_passes_with_application_default_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an authorized-user ADC file is loaded without any network call
    adc = tmp_path / "adc.json"
    adc.write_text(json.dumps({"type": "authorized_user", "client_id": "c", "client_secret": "s",
                               "refresh_token": "r"}))
    for k, v in no_credentials(tmp_path).items():
        monkeypatch.setenv(k, v)
    cfg = GeminiModelConfig(name="t", model_id="projects/p/locations/l/endpoints/1", api="vertex", project="p",
                            location="l")
    with pytest.raises(ConfigError, match="Google Cloud credentials"):
        check_credentials(cfg)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    check_credentials(cfg)  # found: no error
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    check_credentials(GeminiModelConfig(name="f", model_id="gemini-2.5-flash"))
