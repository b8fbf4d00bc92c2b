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
