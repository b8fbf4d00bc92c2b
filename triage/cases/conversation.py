"""Ticket-level scores from a conversation: recency-weighted max and trend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from triage.heads import DEFAULT_HEADS as HEADS
from triage.store.tables import Message

DECAY = 0.75
WINDOW = 10
TREND_DELTA = 0.15


def conversation(recent: Sequence[Message]) -> dict[str, Any]:
    """Ticket-level scores from its customer messages (newest first)."""
    newest = recent[0]
    scored = [m for m in recent if m.scorable and m.frustration is not None]
    out: dict[str, Any] = {"scorable": bool(newest.scorable),
                           "unscorable_reason": None if newest.scorable else
                           newest.unscorable_reason, "trend": trend(scored)}
    phrases: dict[str, list[str]] = {}
    for head in HEADS:
        weighted = [(getattr(m, head) * DECAY ** k, m) for k, m in enumerate(scored)]
        best = max(weighted, key=lambda x: x[0], default=None)
        out[head] = None if best is None else round(best[0], 4)
        if best is not None and best[1].phrases:
            phrases[head] = list(best[1].phrases.get(head, []))
    out["phrases"] = phrases or None
    return out


def trend(scored: Sequence[Message]) -> str | None:
    """`worsening`/`improving`/`steady` from the two newest scored messages; None for one."""
    if len(scored) < 2:
        return None
    deltas = [getattr(scored[0], h) - getattr(scored[1], h) for h in HEADS]
    rise, fall = max(deltas), -min(deltas)
    if rise >= TREND_DELTA and rise >= fall:
        return "worsening"
    if fall >= TREND_DELTA:
        return "improving"
    return "steady"
