"""The heads a model scores: their names, what they mean, and the check on a name.

Heads are data. A model's manifest lists the heads it scores, and everything downstream
(the store, the API, the queue policy, the page, exports) takes them from there. The
bundled default model scores `DEFAULT_HEADS`; a data scientist's model may score others
(`legal_threat`, `fraud_report`, ...), learned from whatever label columns their file has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from triage.errors import InputError

DEFAULT_HEADS: tuple[str, ...] = ("frustration", "churn_risk", "urgency")
DESCRIPTIONS: dict[str, str] = {
    "frustration": "the customer is angry, annoyed or disappointed with the company",
    "churn_risk": "the customer may leave or reduce their business",
    "urgency": "the message needs prompt action (money at risk, service down, a deadline)",
}
# Fields of a labelled row, a score or a case that a head name must never shadow.
RESERVED = frozenset({
    "text", "id", "scores", "scorable", "reason", "language", "model_version", "explanation",
    "channel", "customer_id", "created_at", "industry", "source", "split", "subject",
    "external_id", "csat", "comment", "message_id", "labels", "line", "error", "row",
})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def check_head(name: object) -> str:
    """`name` if it can name a head: lower-case letters, digits and `_`, not a reserved field."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"head name {name!r} is not allowed; expected lower-case letters, "
                         "digits and '_' (starting with a letter, at most 40), e.g. legal_threat")
    if name in RESERVED:
        raise InputError(f"head name {name!r} is a reserved field name; choose another, "
                         f"e.g. {name}_flag")
    return name


def check_heads(names: Iterable[object]) -> tuple[str, ...]:
    """Checked, unique head names in the order given (at least one)."""
    heads = tuple(check_head(n) for n in names)
    if not heads:
        raise InputError("expected at least one head")
    dupes = sorted({h for h in heads if heads.count(h) > 1})
    if dupes:
        raise InputError(f"head(s) {dupes} are listed twice")
    return heads


def describe(head: str, given: dict[str, str] | None = None) -> str:
    """What a head means: the description given, ours for the default heads, else ''."""
    return (given or {}).get(head) or DESCRIPTIONS.get(head, "")
