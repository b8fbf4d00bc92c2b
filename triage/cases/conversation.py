"""Ticket-level scores from a conversation: recency-weighted max, trend and frustration rise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from triage.scoring import Score
from triage.store.tables import Message

DECAY = 0.75
WINDOW = 10
TREND_DELTA = 0.15


def conversation(recent: Sequence[Message]) -> dict[str, Any]:
    """Ticket-level fields from its customer messages (newest first).

    The heads are those of the newest scored message (the model that scores now); an older
    message scored by a model without one of them simply does not count for that head.
    """
    newest = recent[0]
    scored = [m for m in recent if m.scorable and m.scores]
    out: dict[str, Any] = {"scorable": bool(newest.scorable),
                           "unscorable_reason": None if newest.scorable else
                           newest.unscorable_reason, "trend": trend(scored)}
    scores: dict[str, float] = {}
    phrases: dict[str, list[str]] = {}
    heads = list(scored[0].scores or {}) if scored else []
    for head in heads:
        weighted = [(m.scores[head] * DECAY ** k, m) for k, m in enumerate(scored)
                    if head in (m.scores or {})]
        value, best = max(weighted, key=lambda x: x[0])
        scores[head] = round(value, 4)
        if best.phrases and best.phrases.get(head):
            phrases[head] = list(best.phrases[head])
    out["scores"] = scores or None
    out["phrases"] = phrases or None
    out["frustration_rise"] = rise(scored, "frustration")
    return out


def rise(scored: Sequence[Message], head: str) -> float | None:
    """How much `head` changed across the messages (newest first): the least-squares slope
    over message order times the span, so one outlier moves it less than a steady climb.
    None with fewer than two messages scored on that head."""
    values = [m.scores[head] for m in reversed(scored) if head in (m.scores or {})]
    n = len(values)
    if n < 2:
        return None
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    var = sum((x - mean_x) ** 2 for x in range(n))
    return round(max(-1.0, min(1.0, cov / var * (n - 1))), 4)


def direction(change: float | None) -> str | None:
    """`rising`, `falling` or `steady` for a change across the conversation."""
    if change is None:
        return None
    if change >= TREND_DELTA:
        return "rising"
    return "falling" if change <= -TREND_DELTA else "steady"


def message_fields(score: Score | None) -> dict[str, Any]:
    """What a message stores of its score (nothing for an agent's reply)."""
    if score is None:
        return {}
    phrases = None
    if score.explanation:
        phrases = {h: [p.text for p in ps] for h, ps in score.explanation.items() if ps}
    return {"scores": score.scores, "scorable": score.scorable,
            "unscorable_reason": score.reason, "language": score.language,
            "model_version": score.model_version, "phrases": phrases or None}


def trend(scored: Sequence[Message]) -> str | None:
    """`worsening`/`improving`/`steady` from the two newest scored messages; None for one."""
    if len(scored) < 2:
        return None
    new, old = scored[0].scores or {}, scored[1].scores or {}
    deltas = [new[h] - old[h] for h in new if h in old]
    if not deltas:
        return None
    rise, fall = max(deltas), -min(deltas)
    if rise >= TREND_DELTA and rise >= fall:
        return "worsening"
    if fall >= TREND_DELTA:
        return "improving"
    return "steady"
