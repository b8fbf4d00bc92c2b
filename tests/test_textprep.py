"""Text preparation: quoted history dropped, whitespace normalised, size capped."""

from __future__ import annotations

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
