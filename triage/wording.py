"""The agent's words for the priority policy's terms: what a person at the helpdesk says.

`Term.detail` keeps the policy's numbers (score, minutes of head start, multipliers); the
words here say the same without them ("long-standing gold customer", "written in German:
needs a person who reads it"), for `Priority.summary()` and the agents' page. Pure text.
"""

from __future__ import annotations

LANGUAGE_NAMES = {
    "ar": "Arabic", "bn": "Bengali", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "sw": "Swahili", "th": "Thai", "tl": "Tagalog", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}
"""Names of the languages the language gate tells apart (triage.language.LANGUAGES)."""

_HEAD_WORDS = {
    "frustration": ("a little frustrated", "frustrated", "very frustrated"),
    "urgency": ("somewhat urgent", "urgent", "very urgent"),
    "churn_risk": ("might leave us", "may leave us", "likely to leave us"),
}
_UNSCORABLE = {
    "no_words": "no words to read (only emoji, numbers or links): needs a person to look",
    "unreadable": "the model cannot read it: needs a person to look",
}
LONG_STANDING_YEARS = 3.0
"""A customer this many years or longer is "long-standing"."""


def head_words(head: str, score: float) -> str:
    """How strongly a message shows `head`, in words ("very frustrated", "likely legal threat")."""
    level = 2 if score >= 0.8 else 1 if score >= 0.5 else 0
    own = _HEAD_WORDS.get(head)
    if own:
        return own[level]
    return f"{('possible', 'likely', 'clear')[level]} {head.replace('_', ' ')}"


def unscorable_words(reason: str) -> str:
    """Why the model could not read a message, and what the agent does about it."""
    if reason.startswith("language:"):
        code = reason.partition(":")[2]
        name = LANGUAGE_NAMES.get(code, f"another language ({code})")
        return f"written in {name}: needs a person who reads it"
    return _UNSCORABLE.get(reason, f"{reason.replace('_', ' ')}: needs a person to look")


def tenure_words(years: float, tier: str | None, since_year: int) -> str:
    """"long-standing gold customer (since 2017)", "new customer (since 2026)"."""
    kind = f"{tier} customer" if tier else "customer"
    if years >= LONG_STANDING_YEARS:
        return f"long-standing {kind} (since {since_year})"
    if years < 1:
        return f"new {kind} (since {since_year})"
    return f"{kind} since {since_year}"


def escalation_words(reason: str) -> str:
    """An escalation reason without its thresholds: "loyal customer at risk"."""
    return "for a supervisor: " + reason.split(":")[0].split(" (over")[0]
