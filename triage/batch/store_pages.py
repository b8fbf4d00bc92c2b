"""One read the queue store does not offer yet: the ids of unresolved tickets, page by page.

Kept apart (and tiny) so that the store's owner can move it into `triage.store.repository`;
it uses the store's session and table models only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.store.tables import Ticket

UNRESOLVED = ("open", "claimed", "waiting_on_customer", "escalated")


def unresolved_ticket_ids(s: Session, *, after: int = 0, limit: int = 500) -> list[int]:
    """Ids of tickets not resolved, ascending, the first `limit` greater than `after`."""
    query = (select(Ticket.id).where(Ticket.status.in_(UNRESOLVED), Ticket.id > after)
             .order_by(Ticket.id).limit(limit))
    return list(s.scalars(query))
