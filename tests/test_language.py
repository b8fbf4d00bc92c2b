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
    "The cafe\u0301 app shows re\u0301sume\u0301 errors, please fix it",  # decomposed accents
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
    ("a" + "\u0301" * 19_000, "unreadable"),  # the model would see "a" and call it calm
    ("help" + "\u0336\u0315\u0327" * 40, "unreadable"),
])
def test_language_unreadable_is_flagged_with_reason(gate: LanguageGate, text: str,
                                                    reason: str) -> None:
    verdict = gate.check(text)
    assert not verdict.scorable
    assert verdict.reason == reason


def test_language_model_is_loaded_once_when_many_threads_ask_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's first requests arrive together: they must share one langid model."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import py3langid.langid as langid

    from triage import language

    loads = []
    real = langid.LanguageIdentifier.from_model_file

    def slow_load(*args, **kwargs):  # type: ignore[no-untyped-def]
        loads.append(threading.get_ident())
        time.sleep(0.05)  # long enough for every thread to arrive while the first loads
        return real(*args, **kwargs)

    monkeypatch.setattr(language, "_IDENTIFIER", None)
    monkeypatch.setattr(langid.LanguageIdentifier, "from_model_file", slow_load)
    with ThreadPoolExecutor(8) as pool:
        idents = list(pool.map(lambda _: language._identifier(), range(8)))
    assert len(loads) == 1
    assert all(i is idents[0] for i in idents)
