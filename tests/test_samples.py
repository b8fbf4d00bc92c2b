"""Our own labelled samples: enough of each label, varied, and free of near-duplicates."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES
from training.data import load_rows, make_splits
from triage.heads import DEFAULT_HEADS as HEADS


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return load_rows(SAMPLES)


def test_samples_size_and_balance(rows) -> None:  # type: ignore[no-untyped-def]
    assert len(rows) >= 2000
    for head in HEADS:
        positives = sum(1 for r in rows if r.labels[head] == 1)
        negatives = sum(1 for r in rows if r.labels[head] == 0)
        assert positives >= 400 and negatives >= 400, head


def test_samples_ids_unique(rows) -> None:  # type: ignore[no-untyped-def]
    ids = [r.id for r in rows]
    assert None not in ids
    assert len(set(ids)) == len(ids)


def test_samples_are_varied(rows) -> None:  # type: ignore[no-untyped-def]
    from training.audit import audit

    result = audit(rows, threshold=0.8)
    assert result.near_duplicate_share < 0.01, result.examples
    assert len(result.channels) >= 6
    assert len(result.industries) >= 9
    assert 0.15 < result.short_share < 0.45


def test_samples_heldout_split_is_populated(rows) -> None:  # type: ignore[no-untyped-def]
    splits = make_splits(rows, 0.15, 0.15)
    for head in HEADS:
        column = [r.labels[head] for r in splits["heldout"].records]
        assert column.count(1) >= 50 and column.count(0) >= 50


def test_samples_variety_is_kept(rows) -> None:  # type: ignore[no-untyped-def]
    """More rows must mean more kinds of writing, not one template again (training/audit.py).

    The 4,395 rows of the first release measured 83 % distinct openings, 513 distinct words
    per 1,000 and an IQR/median of word counts of 0.79."""
    from training.audit import variety

    v = variety([r.text for r in rows])
    assert v.distinct_openings >= 0.7, v
    assert v.top_opening_share < 0.03, v
    assert v.vocabulary_per_1000 >= 480, v
    assert v.length_iqr_ratio >= 0.6, v


def test_audit_variety_tells_a_template_from_real_writing() -> None:
    from training.audit import variety

    nouns = ["phone", "plan", "card", "order", "bill", "router", "tv", "account"]
    template = variety([f"I want to cancel my {n} because it is broken" for n in nouns * 50])
    assert template.distinct_openings < 0.01 and template.top_opening_share == 1.0
    assert template.vocabulary_per_1000 < 50 and template.length_iqr_ratio == 0.0
    varied = variety(["hi, card declined at the shop just now??",
                      "Please close my account at the end of the month. Thanks for everything.",
                      "Third email this week. Is anyone reading these?",
                      "where do i find last year's invoices"] * 5)
    assert varied.distinct_openings == pytest.approx(4 / 20)
    assert varied.length_quantiles[0] < varied.length_quantiles[-1]


def test_agreement_kappa_per_head() -> None:
    from training.agreement import agreement

    first = {"a": {"frustration": 1, "urgency": 0}, "b": {"frustration": 0, "urgency": 1},
             "c": {"frustration": 1, "urgency": None}, "d": {"frustration": 0, "urgency": 0}}
    second = {"a": {"frustration": 1, "urgency": 0}, "b": {"frustration": 1, "urgency": 1},
              "c": {"frustration": 1, "urgency": 1}, "d": {"frustration": 0, "urgency": 0},
              "zz": {"frustration": 1}}
    f, u = agreement(first, second, ["frustration", "urgency"])
    assert (f.rows, f.agreement, f.disagreements) == (4, 0.75, ["b"])
    assert f.kappa == pytest.approx(0.5)
    assert (u.rows, u.agreement, u.kappa) == (3, 1.0, 1.0)  # "c" has no first label
