"""The queue's words, defined once: lanes, case statuses and conversation trends.

The API's request and response shapes, the store, the policy and the page all take them
from here (the page reads the lanes from the queue response, which lists every lane).
Heads are not here: they are data, listed by each model's manifest (`triage.heads`).
"""

from __future__ import annotations

from typing import Literal, get_args

Lane = Literal["supervisor", "needs_triage", "standard"]
Status = Literal["open", "claimed", "waiting_on_customer", "escalated", "resolved"]
Trend = Literal["worsening", "improving", "steady"]
Direction = Literal["rising", "steady", "falling"]
"""Which way frustration moved across a conversation (`priority.v2` reads a rise)."""

LANES: tuple[str, ...] = get_args(Lane)
"""Queue lanes, served in this order: a supervisor first, then human triage, then the rest."""
STATUSES: tuple[str, ...] = get_args(Status)
QUEUED: tuple[str, ...] = ("open", "escalated")
"""Statuses of a ticket waiting in the queue to be claimed."""
TRENDS: tuple[str, ...] = get_args(Trend)
