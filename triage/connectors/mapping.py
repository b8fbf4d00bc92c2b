"""From triage's lane and position to a helpdesk priority level (configurable).

    supervisor lane (escalated)                      -> urgent
    boost >= high_minutes                            -> high
    boost >= normal_minutes                          -> normal
    otherwise                                        -> low
    unscorable (needs_triage lane)                   -> unscorable_level (never low)
                                                        and the `needs-triage` tag

The boost is the policy's head start in minutes (`priority.v1`, docs/priority.md): it
holds the scores, tenure, value, repeat contacts and SLA terms, but not the time waited, so
the level does not drift while a ticket waits. Set `TRIAGE_CONNECTOR_PRIORITY` to a JSON
object with any of the fields of `PriorityMap` to change the cut points. Each connector
turns the level into its own values (Chatwoot urgent/high/medium/low, Zendesk
urgent/high/normal/low, Freshdesk 4/3/2/1, Zammad priority ids).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from triage.errors import InputError

LEVELS = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class Level:
    """The helpdesk-neutral priority of a case, and whether a person must triage it."""

    level: str
    needs_triage: bool = False
    tag: str = "needs-triage"

    @property
    def key(self) -> str:
        """What "the priority changed" compares: the level and the tag together."""
        return f"{self.level}+{self.tag}" if self.needs_triage else self.level


@dataclass(frozen=True)
class PriorityMap:
    """The cut points from lane and boost minutes to a level."""

    urgent_lanes: tuple[str, ...] = ("supervisor",)
    high_minutes: float = 60.0
    normal_minutes: float = 20.0
    unscorable_level: str = "normal"
    tag: str = "needs-triage"

    def __post_init__(self) -> None:
        if self.unscorable_level not in LEVELS[1:]:
            raise InputError(f"connector_priority.unscorable_level is "
                             f"{self.unscorable_level!r}; expected one of {list(LEVELS[1:])} "
                             "(an unreadable message never gets the lowest priority)")
        if self.normal_minutes > self.high_minutes:
            raise InputError("connector_priority.normal_minutes is above high_minutes; "
                             "expected normal_minutes <= high_minutes")

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> PriorityMap:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw or {}) - known)
        if unknown:
            raise InputError(f"unknown connector_priority key(s) {unknown}; expected some "
                             f"of {sorted(known)}")
        values = dict(raw or {})
        if "urgent_lanes" in values:
            values["urgent_lanes"] = tuple(values["urgent_lanes"])
        return cls(**values)

    def level(self, case: dict[str, Any]) -> Level:
        """The level of a case as `Cases` returns it (its lane and priority)."""
        priority = case.get("priority") or {}
        lane = priority.get("lane") or case.get("lane")
        boost = float(priority.get("boost_minutes") or 0.0)
        if lane in self.urgent_lanes:
            return Level("urgent", not case.get("scorable", True), self.tag)
        if not case.get("scorable", True) or lane == "needs_triage":
            return Level(self.unscorable_level, True, self.tag)
        if boost >= self.high_minutes:
            return Level("high", tag=self.tag)
        return Level("normal" if boost >= self.normal_minutes else "low", tag=self.tag)
