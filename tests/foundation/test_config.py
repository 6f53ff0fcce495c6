"""Every YAML composes and validates; every config mistake is one line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.base import BACKENDS
from harness.config.load import compose_run, group_options
from harness.config.store import MODEL_SCHEMAS, TASK_SCHEMAS
from harness.core.errors import ConfigError
from harness.core.paths import conf_dir
from harness.kinds.base import KINDS
from harness.run.plugins import load_plugins
from harness.run.runner import resolve_scorers
from tests.helpers import assert_one_line_error, run_cli

load_plugins()

# configs that need a value only the user can give (a replay file, a server URL)
REQUIRED = {"replay": ["model.path=/dev/null"], "openai_compat": ["model.model_id=served-model"]}


@pytest.mark.parametrize("task", group_options("task"))
def test_every_task_yaml_composes_and_names_real_plugins(task: str) -> None:
    cfg = compose_run([f"task={task}"])
    assert isinstance(cfg.task, TASK_SCHEMAS[cfg.task.kind])
    assert cfg.task.name == task
    KINDS.get(cfg.task.kind)
    per, corpus = resolve_scorers(cfg.task.scorers)
    assert per or corpus


@pytest.mark.parametrize("model", group_options("model"))
def test_every_model_yaml_composes_with_its_schema(model: str) -> None:
    cfg = compose_run([f"model={model}", *REQUIRED.get(model, [])])
    assert isinstance(cfg.model, MODEL_SCHEMAS[cfg.model.backend])
    assert cfg.model.name
    BACKENDS.get(cfg.model.backend)


def test_every_yaml_in_conf_is_covered() -> None:
    """A new config group must be added to a composing test, not silently skipped."""
    groups = {p.parent.name for p in conf_dir().rglob("*.yaml") if p.parent != conf_dir()}
    assert groups <= {"task", "model", "gate", "judge_scale"}, groups  # judge_scale: tests/judge/test_judge_config.py


def test_defaults_are_classification_on_embedded_gemma() -> None:
    cfg = compose_run([])
    assert (cfg.task.name, cfg.model.name, cfg.model.path) == ("classification", "gemma3_270m", "embedded:gemma3-270m")
    assert Path(cfg.task.data.path).is_file()


@pytest.mark.parametrize(
    ("overrides", "needles"),
    [
        (["task=clasification"], ["unknown task 'clasification'", "did you mean: classification"]),
        (["model=gemma3"], ["unknown model 'gemma3'", "gemma3_270m"]),
        (["task.limt=3"], ["task.limt", "did you mean: limit"]),
        (["task.limit=abc"], ["task.limit"]),
        (["model=replay"], ["model.path", "missing required value"]),
        (["task.data.input_feild=text"], ["task.data.input_feild", "did you mean: input_field"]),
    ],
)
def test_config_mistakes_raise_one_clear_config_error(overrides: list[str], needles: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        compose_run(overrides)
    message = str(err.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["task=nope"], ["unknown task 'nope'"]),
        (["task.limit=abc"], ["task.limit"]),
        (["task.limit=[1"], ["override"]),
        (["model=replay"], ["model.path"]),
        (["-m", "task=classification,nope"], ["unknown task 'nope'"]),
        (["task.scorers=[label_mach]"], ["unknown scorer 'label_mach'", "label_match"]),
        (["task.data.path=/nonexistent/x.jsonl"], ["data file not found", "/nonexistent/x.jsonl"]),
        (["task.template=nope.jinja"], ["prompt template not found", "prompt.jinja"]),
    ],
)
def test_cli_reports_mistakes_on_one_line_with_exit_2(args: list[str], needles: list[str], tmp_path: Path) -> None:
    proc = run_cli(
        [*args, f"results_dir={tmp_path}", f"tracking.uri=sqlite:///{tmp_path}/m.db", f"cache.path={tmp_path}/c.sqlite"]
    )
    assert_one_line_error(proc, *needles)


def test_help_lists_tasks_and_models() -> None:
    proc = run_cli(["--help"])
    assert proc.returncode == 0
    assert "classification" in proc.stdout and "gemma3_270m" in proc.stdout
