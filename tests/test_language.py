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

    from py3langid import langid

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


def _verdict_always_asking_langid(gate: LanguageGate, text: str) -> tuple:
    """The gate's rules with langid asked for every text (as before the shortcut)."""
    from triage.language import _MARKS, _NOISE, _WORD, _identifier

    words = _WORD.findall(_NOISE.sub(" ", text))
    if not words:
        return (False, None, "no_words")
    marks = len(_MARKS.findall(text))
    if marks > 3 and marks >= sum(len(w) for w in words):
        return (False, None, "unreadable")
    lang, prob = _identifier().classify(text)
    known = gate._known_share(words)
    if len(words) < 4:
        if known == 0.0 and gate.known_words and lang != "en" and len("".join(words)) > 3:
            return (False, lang, "unreadable")
        return (True, "en" if lang == "en" else None, None)
    if lang != "en" and prob >= gate.min_confidence and known < 0.85:
        return (False, lang, f"language:{lang}")
    if gate.known_words and known < 0.4:
        return (False, lang, f"language:{lang}" if lang != "en" and prob >= 0.5 else "unreadable")
    return (True, "en", None)


def test_language_shortcut_gives_the_verdicts_langid_would(gate: LanguageGate) -> None:
    """Messages whose words the vocabulary mostly knows skip langid; the verdict (scorable,
    language, reason) is the one the full rules give, on every sample and on other
    languages, mixed and short texts."""
    import json
    from pathlib import Path

    parts = Path(__file__).resolve().parents[1] / "data" / "samples" / "parts"
    texts = [json.loads(line)["text"] for path in sorted(parts.glob("*.jsonl"))[:6]
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["Hola, mi tarjeta no funciona desde ayer y nadie me responde",
              "Bonjour, je voudrais annuler mon abonnement tout de suite s'il vous plaît",
              "Meine Karte wurde gesperrt und niemand hilft mir", "ok thx", "asdf qwer zxcv uiop",
              "My card is blocked, por favor ayúdame rápido", "wtf", "🙂🙂🙂", "1234 5678"]
    for text in texts:
        got = gate.check(text)
        assert (got.scorable, got.language, got.reason) == \
            _verdict_always_asking_langid(gate, text), text
