"""The language gate: English is scored, other languages and non-words go to humans."""

from __future__ import annotations

import pytest

from triage.language import LanguageGate


@pytest.fixture(scope="module")
def gate(tiny_scorer) -> LanguageGate:  # type: ignore[no-untyped-def]
    return tiny_scorer.gate


@pytest.mark.parametrize("text", [
    "where is my refund??", "thx!!", "wtf", "ok", "u guys r da worst smh",
    "My card was stolen last night, please block it right away.",
    "pls fix asap my acct locked",
])
def test_language_english_is_scorable(gate: LanguageGate, text: str) -> None:
    assert gate.check(text).scorable


@pytest.mark.parametrize(("text", "reason"), [
    ("Je voudrais annuler mon abonnement dès que possible", "language:fr"),
    ("Hola, necesito ayuda con mi cuenta bancaria", "language:es"),
    ("Ich habe ein Problem mit meiner Rechnung", "language:de"),
    ("😡😡😡", "no_words"),
    ("12345 !!!", "no_words"),
    ("sdfkjh sdkfjh wieuryt xcmvnb qpwoeiru", "unreadable"),
])
def test_language_unreadable_is_flagged_with_reason(gate: LanguageGate, text: str,
                                                    reason: str) -> None:
    verdict = gate.check(text)
    assert not verdict.scorable
    assert verdict.reason == reason
