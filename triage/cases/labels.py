"""Agents' corrections as a labelled-ticket file: the loop from complaint to better model."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

from triage.cases.views import iso
from triage.store import Database
from triage.store import repository as repo
from triage.store.tables import Message, Ticket


def export_labels(db: Database, out: IO[str], *, csat_as_frustration: bool = False,
                  heads: Sequence[str] = ()) -> int:
    """Write agents' label corrections as labelled-ticket JSONL; returns the rows written.

    Every row has a column for each of `heads` (the model's) and each head anyone labelled.
    """
    with db.read() as s:
        rows = repo.feedback_for_export(s)
    written = 0
    for record in label_records(rows, csat_as_frustration=csat_as_frustration, heads=heads):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written


def label_records(rows: Iterable[tuple[Any, Message, Ticket]], *,
                  csat_as_frustration: bool = False,
                  heads: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One labelled row per corrected message; the latest correction of each head wins.

    With `csat_as_frustration`, a CSAT of 1 or 2 with no explicit frustration label marks
    the message frustration=1 (off by default: a low CSAT judges the service, not always
    the customer's tone).
    """
    rows = list(rows)
    columns = list(dict.fromkeys([*heads, *(h for f, _, _ in rows for h in f.labels or {})]))
    if csat_as_frustration and "frustration" not in columns:
        columns.append("frustration")
    merged: dict[int, dict[str, Any]] = {}
    for f, m, t in rows:
        rec = merged.setdefault(m.id, {"id": f"{t.case_number}/{m.id}", "text": m.text,
                                       **{h: None for h in columns}, "channel": t.channel,
                                       "created_at": iso(m.created_at),
                                       "source": "feedback", "_csat": None})
        rec.update(f.labels or {})
        if f.csat is not None:
            rec["_csat"] = f.csat
    out = []
    for rec in merged.values():
        csat = rec.pop("_csat")
        if csat_as_frustration and csat is not None and csat <= 2 and rec["frustration"] is None:
            rec["frustration"] = 1
        if any(rec[h] is not None for h in columns):
            out.append(rec)
    return out
