"""Agents' corrections as a labelled-ticket file: the loop from complaint to better model."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from triage.cases.views import iso
from triage.heads import DEFAULT_HEADS as HEADS
from triage.store import Database
from triage.store import repository as repo
from triage.store.tables import Message, Ticket


def export_labels(db: Database, out: IO[str], *, csat_as_frustration: bool = False) -> int:
    """Write agents' label corrections as labelled-ticket JSONL; returns the rows written."""
    with db.read() as s:
        rows = repo.feedback_for_export(s)
    written = 0
    for record in label_records(rows, csat_as_frustration=csat_as_frustration):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written


def label_records(rows: Iterable[tuple[Any, Message, Ticket]], *,
                  csat_as_frustration: bool = False) -> list[dict[str, Any]]:
    """One labelled row per corrected message; the latest correction of each head wins.

    With `csat_as_frustration`, a CSAT of 1 or 2 with no explicit frustration label marks
    the message frustration=1 (off by default: a low CSAT judges the service, not always
    the customer's tone).
    """
    merged: dict[int, dict[str, Any]] = {}
    for f, m, t in rows:
        rec = merged.setdefault(m.id, {"id": f"{t.case_number}/{m.id}", "text": m.text,
                                       **{h: None for h in HEADS}, "channel": t.channel,
                                       "created_at": iso(m.created_at),
                                       "source": "feedback", "_csat": None})
        for head in HEADS:
            if getattr(f, head) is not None:
                rec[head] = getattr(f, head)
        if f.csat is not None:
            rec["_csat"] = f.csat
    out = []
    for rec in merged.values():
        csat = rec.pop("_csat")
        if csat_as_frustration and csat is not None and csat <= 2 and rec["frustration"] is None:
            rec["frustration"] = 1
        if any(rec[h] is not None for h in HEADS):
            out.append(rec)
    return out
