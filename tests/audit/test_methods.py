"""Each audit method on hand-made cases; expectations worked out by hand (or by datasketch itself)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.audit import methods as m
from harness.audit.api import audit_task
from harness.audit.audit import AuditSettings, ItemFlags, TrainItem, run_audit
from harness.audit.normalise import normalise, template_tokens
from harness.config.schema import AuditConfig, TaskConfig
from harness.core.records import Sample, Score
from harness.data.samples import TaskData, fingerprint
from harness.run.aggregate import clean_metrics


def flags(test: list[str], train: list[str], **settings: object) -> list[ItemFlags]:
    return run_audit(
        [(f"t{i}", t) for i, t in enumerate(test)],
        [TrainItem("train", f"r{i}", t) for i, t in enumerate(train)],
        AuditSettings(**settings),  # type: ignore[arg-type]
    )


def test_normalise_nfkc_case_punctuation_whitespace() -> None:
    # fullwidth letters and the "fi" ligature fold to ASCII under NFKC; punctuation only separates words
    assert normalise("  Ｈｅｌｌｏ,\tWORLD!! ﬁne ") == "hello world fine"
    assert normalise("Don't  stop—now.") == "don t stop now"


def test_template_tokens_mask_names_numbers_money_dates() -> None:
    text = "Yesterday Anna Maria paid $12.50 for 3 tickets on 2024-05-03."
    assert template_tokens(text) == ["yesterday", "<name>", "paid", "<money>", "for", "<num>", "tickets", "on",
                                     "<date>"]
    # sentence-initial capitals and "I" are not names; a weekday is a date; "May" opening a sentence is a word
    assert template_tokens("I met Tom on Friday. May I help?") == ["i", "met", "<name>", "on", "<date>", "may", "i",
                                                                   "help"]


def test_exact_after_normalisation() -> None:
    out = flags(["the CAT sat, on the mat", "the cat sat on a mat"], ["The cat sat on the mat."])
    assert [f.exact for f in out] == [True, False]
    assert out[0].match_id == "r0" and out[0].match_method == "exact"


def test_ngram_shares_a_word_ngram() -> None:
    train = ["alpha beta gamma delta"]
    out = flags(["zeta beta gamma delta eta", "alpha beta delta gamma"], train, ngram=3)
    # trigrams of the first share (beta gamma delta); the second's (alpha beta delta), (beta delta gamma) do not
    assert [f.ngram for f in out] == [True, False]
    # default n=13: texts shorter than 13 words have no 13-gram at all
    assert not flags(["zeta beta gamma delta eta"], train)[0].ngram


def test_signatures_equal_datasketch_minhash() -> None:
    from datasketch import MinHash

    texts = ["the quick brown fox jumps over the lazy dog", "one", "a b c d e f"]
    sh = [m.shingles(t, 2) for t in texts]
    ours = m.signatures(sh, 64)
    for row, s in zip(ours, sh, strict=True):
        ref = MinHash(num_perm=64, hashfunc=lambda x: x)
        ref.update_batch(s)
        assert np.array_equal(row, ref.hashvalues)


def test_near_duplicate_threshold() -> None:
    base = [f"w{i}" for i in range(40)]
    train = [" ".join(base)]
    one_changed = " ".join([*base[:-1], "other"])  # 2-shingles: 38 shared of 40 in the union, Jaccard 0.95
    half = " ".join([*base[:20], *(f"v{i}" for i in range(20))])  # 19 shared of 59, Jaccard 0.32
    unrelated = " ".join(f"u{i}" for i in range(40))
    out = flags([one_changed, half, unrelated], train)
    assert [f.near for f in out] == [True, False, False]
    assert [f.ngram for f in out] == [True, True, False]  # 13-grams: both keep a run of 13 words of the train text


def test_template_masked_form_and_varied_frame() -> None:
    train = [
        "Order 4411 for Maria Lopez ships on 12 March from the Berlin warehouse.",
        "I bought the red lamp at the corner shop yesterday",
        "I bought the blue kettle at the corner shop yesterday",
        "I need my card quickly today",
    ]
    test = [
        "Order 9 for Tom ships on 3 June from the Paris warehouse.",  # same masked form
        "I bought the green chair at the corner shop yesterday",  # a frame two train rows fill differently
        "I need my card urgently today",  # differs from ONE train row in one word: no frame seen varying
    ]
    out = flags(test, train)
    assert [f.template for f in out] == [True, True, False]
    assert [f.exact for f in out] == [False, False, False]
    assert not out[2].any
    assert out[0].match_id == "r0" and out[1].match_id == "r1"


def test_row_and_summary() -> None:
    out = flags(["The cat sat on the mat", "nothing like it"], ["the cat sat on the mat"])
    assert out[0].to_row() == {"leakage.exact": True, "leakage.near": True, "leakage.ngram": False,
                               "leakage.template": True, "leakage.any": True, "leakage.match": "train:r0"}
    assert out[1].to_row()["leakage.any"] is False and out[1].to_row()["leakage.match"] is None


def _data(test: list[str], train: list[str]) -> TaskData:
    te = tuple(Sample(f"t{i}", t) for i, t in enumerate(test))
    tr = tuple(Sample(f"r{i}", t) for i, t in enumerate(train))
    return TaskData(te, tr, fingerprint(te))


def test_audit_task_is_cached_by_fingerprints(tmp_path: Path) -> None:
    task = TaskConfig(name="t", kind="classification")
    data = _data(["the cat sat on the mat", "x y z"], ["The cat sat on the mat."])
    first = audit_task(task, None, data, AuditConfig(), tmp_path)
    again = audit_task(task, None, data, AuditConfig(), tmp_path)
    other = audit_task(task, None, data, AuditConfig(ngram=5), tmp_path)
    assert first and again and other
    assert (first.cached, again.cached, other.cached) == (False, True, False)
    assert again.items == first.items
    assert first.summary()["leakage.exact"] == 0.5 and first.summary()["leakage.any.count"] == 1.0
    assert audit_task(task, None, _data(["a"], []), AuditConfig(), tmp_path) is None  # no training side


def test_unknown_tuning_provenance_is_not_an_error(tmp_path: Path) -> None:
    from harness.config.schema import HFModelConfig

    tuned = HFModelConfig(name="v", path="x", variant="lora")
    result = audit_task(TaskConfig(name="t", kind="classification"), tuned, _data(["a b"], []), AuditConfig(),
                        tmp_path)
    assert result is not None and result.unknown == ("tuning",) and not result.audited


def test_clean_metrics_on_unflagged_items() -> None:
    scores = [Score({"accuracy": v}) for v in (1.0, 0.0, 1.0, 1.0)]
    items: list = [None] * 4  # no corpus metric reads them here
    out = clean_metrics({}, items, scores, object(), [True, True, False, False], resamples=0)
    assert out == {"accuracy.clean": out["accuracy.clean"]}
    assert out["accuracy.clean"].value == pytest.approx(0.5)  # (1 + 0) / 2
    assert clean_metrics({}, items, scores, object(), [False] * 4, resamples=0) == {}
