"""Every judge scale preset in conf/judge_scale/ composes into a task's judge and gives a valid rubric."""

from __future__ import annotations

import pytest

from harness.config.load import compose_run
from harness.core.paths import group_options
from harness.judge.rubric import from_task

EXPECTED = {"pass_fail": ("fail", "pass"), "likert5": ("1", "2", "3", "4", "5")}


def test_the_presets_are_the_documented_ones() -> None:
    assert set(group_options("judge_scale")) == set(EXPECTED)


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_preset_composes_into_task_judge(preset: str) -> None:
    cfg = compose_run(["task=summarization", f"+judge_scale@task.judge={preset}", "task.judge.model=gemma3_270m"])
    rubric = from_task(cfg.task)  # scale checked, template rendered once
    assert rubric.grades == EXPECTED[preset] and rubric.rubric and cfg.task.judge.model == "gemma3_270m"


def test_tasks_have_a_judge_section_that_is_off_until_named() -> None:
    task = compose_run(["task=classification"]).task
    assert task.judge.model == "" and "judge" not in task.scorers
