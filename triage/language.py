"""Can the model read this message? Language and gibberish detection.

The model was trained on English. A message in another language, or one with no words
(emoji only, digits, keyboard mash), must not be silently scored as calm: it is flagged
`scorable: false` with a reason, and the queue sends it to human triage.

Detection uses py3langid, whose model ships inside its wheel (no download), restricted to
widely used languages, plus a vocabulary check against the model's own tokenizer (words the
English WordPiece vocabulary knows whole). Short messages (under four words) are only
rejected when they have no known words at all: "thx!!" and "wtf" stay scorable. A text
with at least as many combining marks as letters ("a" under 19,000 stacked accents) is
unreadable: the model would see the bare letters and call it calm.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\S+@\S+\.\w+")
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

LANGUAGES = [
    "en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "ro", "hu",
    "tr", "ru", "uk", "el", "ar", "he", "fa", "hi", "bn", "ur", "zh", "ja", "ko", "vi", "th",
    "id", "ms", "tl", "sw",
]


@dataclass(frozen=True)
class Readability:
    """Whether the model can read a text, and if not, why."""

    scorable: bool
    language: str | None
    reason: str | None = None
    confidence: float = 0.0  # of the verdict: langid's probability, or the known-word share


_IDENTIFIER: Any = None
_IDENTIFIER_LOCK = threading.Lock()


def _identifier() -> Any:
    """The langid model, loaded once per process.

    Under a lock: a server's first requests arrive on many threads at once, and each one
    loading its own copy (about 100 MB and a second of CPU) took a fresh worker to 1.5 GB.
    """
    global _IDENTIFIER
    if _IDENTIFIER is None:
        with _IDENTIFIER_LOCK:
            if _IDENTIFIER is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                ident.set_languages(LANGUAGES)
                _IDENTIFIER = ident
    return _IDENTIFIER


class LanguageGate:
    """Decides whether a text is English enough for the model.

    Args:
        known_words: lower-cased words the model's vocabulary knows whole; with it the gate
            also catches gibberish and non-English text that langid is unsure about.
        min_confidence: langid probability above which a non-English verdict is trusted.
        preload: load langid's model now (else on the first message that needs it).
    """

    def __init__(self, known_words: frozenset[str] | None = None, min_confidence: float = 0.9,
                 *, preload: bool = True):
        self.known_words = known_words or frozenset()
        self.min_confidence = min_confidence
        if preload:  # a server loads it at startup, not on its first request; `triage score
            _identifier()  # --text` loads it only if the message needs it

    def check(self, text: str) -> Readability:
        words = _WORD.findall(_NOISE.sub(" ", text))
        if not words:
            return Readability(False, None, "no_words", 1.0)
        marks = len(_MARKS.findall(text))
        if marks > 3 and marks >= sum(len(w) for w in words):
            return Readability(False, None, "unreadable", 1.0)
        known = self._known_share(words)
        if len(words) >= 4 and known >= 0.85:
            # langid cannot change this verdict (below, a non-English guess needs known <
            # 0.85), so it is not asked: most messages stop here, at a fraction of its cost
            return Readability(True, "en", None, known)
        lang, prob = _identifier().classify(text)
        if len(words) < 4:
            if known == 0.0 and self.known_words and lang != "en" and len("".join(words)) > 3:
                return Readability(False, lang, "unreadable", 1 - known)
            return Readability(True, "en" if lang == "en" else None, None, float(prob))
        if lang != "en" and prob >= self.min_confidence and known < 0.85:
            return Readability(False, lang, f"language:{lang}", float(prob))
        if self.known_words and known < 0.4:
            reason = f"language:{lang}" if lang != "en" and prob >= 0.5 else "unreadable"
            return Readability(False, lang, reason, 1 - known)
        return Readability(True, "en", None, float(prob))

    def _known_share(self, words: list[str]) -> float:
        if not self.known_words:
            return 1.0
        hits = sum(1 for w in words if w.lower() in self.known_words)
        return hits / len(words)


def vocabulary_words(vocab: dict[str, int]) -> frozenset[str]:
    """Whole words (no `##` pieces, alphabetic, 2+ letters) of a WordPiece vocabulary."""
    return frozenset(
        w for w in vocab if not w.startswith("##") and w.isalpha() and len(w) >= 2
    ) | frozenset({"a", "i"})
