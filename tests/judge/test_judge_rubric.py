"""The pointwise judge's prompt, scale and reply parsing."""

from __future__ import annotations

import pytest

from harness.backends.gemini.context_cache import shared_prefix
from harness.core.errors import ConfigError
from harness.judge.rubric import BUILTIN_TEMPLATE, Item, Rubric, check_grades

PASS_FAIL = Rubric(BUILTIN_TEMPLATE, "built-in", "Be right.", ("fail", "pass"), True, 2)
LIKERT = Rubric(BUILTIN_TEMPLATE, "built-in", "Be right.", ("1", "2", "3", "4", "5"), False, 2)


@pytest.mark.parametrize(
    ("reply", "grade", "rationale"),
    [
        ("pass\nRationale: the label matches", "pass", "the label matches"),
        ("PASS.", "pass", ""),
        ("**Grade: fail** - wrong label", "fail", "wrong label"),
        ("The output names the right intent. Grade: pass", "pass", "The output names the right intent."),
        (" [[fail]] it is another label", "fail", "it is another label"),
        ("passable", None, None),  # a grade must be a whole word
        ("I think it fails", None, None),
        ("", None, None),
    ],
)
def test_pass_fail_replies(reply: str, grade: str | None, rationale: str | None) -> None:
    parsed = PASS_FAIL.parse(reply)
    assert (parsed.grade if parsed else None) == grade
    if parsed:
        assert parsed.rationale == rationale


@pytest.mark.parametrize(("reply", "grade"), [("4/5 mostly right", "4"), ("5", "5"), ("Grade: 3\nRationale: x", "3"),
                                              ("10", None), ("five", None), ("4.5", None), ("4. Good", "4"),
                                              ("1.0", "1")])
def test_numeric_scale_replies(reply: str, grade: str | None) -> None:
    parsed = LIKERT.parse(reply)
    assert (parsed.grade if parsed else None) == grade


def test_grade_values_run_from_worst_zero_to_best_one() -> None:
    assert [LIKERT.value(g) for g in LIKERT.grades] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert (PASS_FAIL.value("fail"), PASS_FAIL.value("pass")) == (0.0, 1.0)


def test_the_shared_rubric_comes_first_and_the_item_last() -> None:
    a = PASS_FAIL.render(Item("1", "first input", "out one", "ref one"))
    b = PASS_FAIL.render(Item("2", "second input", "out two", "ref two"))
    shared = shared_prefix([a, b], 1)  # what Gemini context caching would store once for the batch
    assert "Rubric: Be right." in shared and "Scale, worst to best: fail, pass." in shared
    assert shared.endswith("[Input]\n")
    assert a.endswith("[Reference answer]\nref one\n\n[Output to grade]\nout one\n\nGrade:")


def test_reference_free_judges_never_see_the_reference() -> None:
    text = LIKERT.render(Item("1", "in", "out", "the secret reference"))
    assert "the secret reference" not in text and "[Reference answer]" not in text


def test_template_hash_follows_template_rubric_and_scale() -> None:
    import dataclasses

    h = PASS_FAIL.template_hash
    assert len(h) == 16 and h == Rubric(BUILTIN_TEMPLATE, "x", "Be right.", ("fail", "pass"), True, 0).template_hash
    assert dataclasses.replace(PASS_FAIL, rubric="Be brief.").template_hash != h
    assert dataclasses.replace(PASS_FAIL, grades=("bad", "good")).template_hash != h
    assert dataclasses.replace(PASS_FAIL, template=BUILTIN_TEMPLATE + " ").template_hash != h


@pytest.mark.parametrize(("grades", "needle"), [([], "is empty"), (["pass"], "one grade"), (["a", " "], "blank"),
                                                (["Pass", "pass"], "twice")])
def test_bad_scales(grades: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        check_grades(grades)


def test_a_template_that_does_not_render_is_a_config_error() -> None:
    bad = Rubric("{{ output }} {{ no_such_name }}", "judge.jinja", "r", ("fail", "pass"), True, 0)
    with pytest.raises(ConfigError, match=r"judge template judge\.jinja does not render"):
        bad.render(Item("1", "in", "out"))
