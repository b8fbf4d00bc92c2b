"""Text preparation: quoted history dropped, whitespace normalised, size capped."""

from __future__ import annotations

import pytest

from triage.textprep import cap, prepare


def test_textprep_drops_quoted_history() -> None:
    text = ("Still broken. Fix it.\n\nOn Tue, 3 Mar 2026, Support <help@x.com> wrote:\n"
            "> We are sorry for the trouble\n> Regards")
    assert prepare(text) == "Still broken. Fix it."


def test_textprep_keeps_text_that_is_only_quotes() -> None:
    assert prepare("> only a quote") == "> only a quote"


def test_textprep_unescapes_and_collapses() -> None:
    assert prepare("a &amp;   b\t\tc") == "a & b c"


def test_textprep_cap_keeps_head_and_tail() -> None:
    text = "A" * 100 + "B" * 100
    capped = cap(text, 40)
    assert capped.startswith("A" * 30) and capped.endswith("B" * 10)


@pytest.mark.parametrize(("text", "masked"), [
    ("Hi, this is Lakisha Washington. My card was stolen\n\nThanks,\nLakisha",
     "Hi, this is [name]. My card was stolen\n\nThanks,\n[name]"),
    ("I was overcharged.\n\n(writing from Mexico City)", "I was overcharged.\n\n(writing from [place])"),
    ("Hi, Nadia here. my card", "Hi, [name] here. my card"),
    ("refund now\n- Ana", "refund now\n- [name]"),
    ("help\n\nKind regards\nJosé García\nAcme Ltd\n+44 123", "help\n\nKind regards\n[name]\n[signature]"),
    ("I am in Lagos and my card is blocked", "I am in [place] and my card is blocked"),
])
def test_textprep_masks_names_and_places_where_people_state_them(text: str, masked: str) -> None:
    assert prepare(text) == masked


@pytest.mark.parametrize("text", [
    "Thanks, all sorted now!", "thanks for nothing", "This is ridiculous, I want a refund",
    "Hello, this is the third time I write", "I was charged twice. Thanks", "sent from my iPhone",
    "Thanks,\nI will wait",
])
def test_textprep_leaves_ordinary_text_alone(text: str) -> None:
    assert prepare(text) == text


@pytest.mark.parametrize(("text", "masked"), [
    ("The booking is in the name of Tendai Moyo.", "The booking is in the name of [name]."),
    ("I'm writing on behalf of Mrs. Ferreira, she is 90.",
     "I'm writing on behalf of [name], she is 90."),
    ("My husband Kenji called twice and your agent Dolores hung up.",
     "My husband [name] called twice and your agent [name] hung up."),
    ("I spoke with Bartholomew yesterday", "I spoke with [name] yesterday"),
    ("The parcel went to your depot in Rotterdam instead of Antwerp.",
     "The parcel went to your depot in [place] instead of [place]."),
    ("Flight from Rio de Janeiro to Nairobi was cancelled, I'm stuck in Kenya!",
     "Flight from [place] to [place] was canceled, I'm stuck in [place]!"),
    ("We moved to Tennessee. Dr Okonkwo needs the records.",
     "We moved to [place]. [name] needs the records."),
])
def test_textprep_masks_names_and_places_inside_sentences(text: str, masked: str) -> None:
    assert prepare(text) == masked


@pytest.mark.parametrize("text", [
    "URGENT: the App crashes since Monday in January, call Customer Service",
    "I use Chrome on my Mac and the PDF will not open", "@Lagos_Air why is my bag lost?",
    "My colleague is furious", "the agent said no", "Please Reading Mobile Nice",
    "I told your agent I wanted a refund and spoke to I don't know who",
])
def test_textprep_masking_spares_ordinary_capitalised_words(text: str) -> None:
    assert prepare(text) == text


def test_textprep_place_list_ships_with_the_package() -> None:
    from triage.textprep import places

    known = places()
    assert len(known) > 20_000
    assert {"Rotterdam", "Kenya", "Tennessee", "Rio de Janeiro"} <= known
    assert not {"Mobile", "Reading", "Nice", "Chrome", "January"} & known
