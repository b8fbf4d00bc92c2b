"""Counterfactual parity: the copies it builds, the per-kind report, the held-out name probe."""

from __future__ import annotations

import numpy as np
import pytest

from triage.evaluation import evaluate, to_markdown
from triage.parity import HELD_OUT_NAMES, NAMES, PLACE_FRAMES, PLACES, counterfactuals, parity_check
from triage.records import Record
from triage.scoring import Scorer
from triage.textprep import names, prepare

HEADS = ("frustration", "churn_risk", "urgency")
KINDS = {"name", "place", "name_in_text", "place_in_text", "name_uncued",
         "name_uncued_held_out", "spelling", "spelling_sentence", "dialect", "dialect_held_out"}


def test_parity_counterfactuals_change_only_identity() -> None:
    variants = counterfactuals("I want to cancel, the color is wrong")
    assert {k for k, _ in variants} == KINDS
    spelling = [v for k, v in variants if k == "spelling"]
    assert spelling == ["I want to cancel, the color is wrong",
                        "I want to cancel, the colour is wrong"]
    assert all("I want to cancel, the color is wrong" in v for _, v in variants
               if _ not in ("spelling", "dialect", "dialect_held_out"))


def test_parity_name_pools_cover_many_cultures_and_hold_some_out() -> None:
    assert len(NAMES) + len(HELD_OUT_NAMES) >= 40
    assert not set(NAMES) & set(HELD_OUT_NAMES)
    listed = names()
    assert all(w in listed for n in NAMES for w in n.split())
    assert not {w for n in HELD_OUT_NAMES for w in n.split()} & listed


def test_parity_listed_names_are_masked_and_most_held_out_names_too() -> None:
    """Listed names are masked by the list; held-out names, on no list we ship, by their
    shape: a capitalised word that is no ordinary word (`words.txt`) and no place. Where a
    part of a held-out name is a dictionary word that our customers never write ("Situ",
    "Lieu"), it is read as the rest of the name."""
    text = "The app crashed again."
    held_out = [v for k, v in counterfactuals(text) if k == "name_uncued_held_out"]
    for kind, variant in counterfactuals(text):
        if kind == "name_uncued":
            assert "[name]" in prepare(variant)
    assert all("[name]" in prepare(v) for v in held_out)
    fully = [v for v in held_out if not any(w in prepare(v) for n in HELD_OUT_NAMES
                                            for w in n.split())]
    assert len(fully) == len(held_out)


def test_parity_places_use_one_frame_per_message_and_many_frames_overall() -> None:
    texts = [f"message {i}: my card does not work" for i in range(60)]
    used = set()
    for text in texts:
        copies = [v for k, v in counterfactuals(text) if k == "place_in_text"]
        assert len(copies) == len(PLACES)
        frames = {next(f for f in PLACE_FRAMES if _fits(f, c, text)) for c in copies}
        assert len(frames) == 1
        used |= frames
    assert len(used) == len(PLACE_FRAMES)


def _fits(frame: str, copy: str, text: str) -> bool:
    head, _, tail = frame.replace("{text}", text).partition("{place}")
    return copy.startswith(head) and copy.endswith(tail.split("{other}")[-1])


def test_parity_spelling_sentences_differ_only_in_spelling() -> None:
    us, uk = (v for k, v in counterfactuals("refund please") if k == "spelling_sentence")
    assert us != uk and prepare(us) == prepare(uk)


def test_parity_dialect_adds_informal_markers() -> None:
    (informal,) = (v for k, v in counterfactuals("I am going to leave because it is very slow, "
                                                    "I don't know why") if k == "dialect")
    assert informal == "I am gonna leave cos it is proper slow, I dunno why"
    assert prepare(informal) == "I am going to leave because it is proper slow, I don't know why"


def test_parity_held_out_dialect_is_not_normalised() -> None:
    from triage.parity import DIALECT_HELD_OUT
    from triage.textprep import INFORMAL

    (variant,) = (v for k, v in counterfactuals("I think it's very slow and you took a lot "
                                                 "of money") if k == "dialect_held_out")
    assert variant == "I reckon tis wicked slow and ye took loads of dosh"
    assert prepare(variant) == variant
    held_out = {w for _, repl in DIALECT_HELD_OUT for w in repl.lower().split()}
    assert not held_out & set(INFORMAL)
    from training.augment import _DIALECT as TAUGHT
    from training.augment import _PARTICLES

    taught = {w for _, forms in TAUGHT for form in forms for w in form.lower().split()}
    taught |= {w for p in _PARTICLES for w in p.split()}
    assert held_out & taught <= {"i", "to", "of"}  # "I reckon", "fixing to": small words only


def test_parity_check_reports_each_kind() -> None:
    def biased(texts: list[str]) -> np.ndarray:
        return np.array([[0.9 if "Lagos" in t else 0.2, 0.1, 0.1] for t in texts])

    def fair(texts: list[str]) -> np.ndarray:
        return np.array([[0.2, 0.1, 0.1] for _ in texts])

    bad = parity_check(["the app crashed", "my bill is wrong"], biased, HEADS)
    assert set(bad.by_kind) == KINDS
    assert bad.by_kind["place"] == {"comparisons": 2, "violations": 2, "max": pytest.approx(0.7)}
    assert bad.by_kind["name_uncued_held_out"] == {"comparisons": 2, "violations": 0, "max": 0.0}
    assert bad.violations == sum(k["violations"] for k in bad.by_kind.values())
    assert bad.comparisons == 2 * len(KINDS)
    assert bad.worst[0]["kind"] in {"place", "place_in_text"}
    assert "Lagos" in bad.worst[0]["variant_high"]
    assert parity_check(["the app crashed"], fair, HEADS).violations == 0


def test_parity_check_runs_on_the_tiny_model(tiny_scorer: Scorer) -> None:
    texts = ["my card was stolen!!", "I want to cancel my favourite plan"]
    report = parity_check(texts, tiny_scorer.model.predict_proba, HEADS)
    assert report.comparisons == len(texts) * len(KINDS)
    assert all(k["comparisons"] == len(texts) for k in report.by_kind.values())
    assert 0.0 <= report.max_delta <= 1.0


def test_parity_section_of_the_eval_report_lists_each_kind(tiny_scorer: Scorer) -> None:
    rows = [Record(t, {"frustration": y, "churn_risk": None, "urgency": y}, {"source": "s"})
            for t, y in [("my card was stolen!!", 1), ("what is the rate", 0)]]
    result = evaluate(tiny_scorer, rows, parity_rows=2)
    markdown = to_markdown(result, "rows")
    assert "| kind | comparisons | above tolerance | largest move |" in markdown
    assert "| name_uncued_held_out | 2 |" in markdown
