"""The queue: read it in claim order, and claim the top ticket with a lease."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from triage.api.deps import AgentKey, CasesDep
from triage.api.schemas import CaseOut, ClaimIn, ErrorOut, Lane, QueueOut, Status

router = APIRouter(prefix="/v1/queue", tags=["queue"],
                   responses={401: {"model": ErrorOut}, 422: {"model": ErrorOut},
                              429: {"model": ErrorOut}})


@router.get("", response_model=QueueOut)
def read_queue(key: AgentKey, cases: CasesDep,
               lane: Annotated[list[Lane] | None, Query(description="Repeat to pick several.")]
               = None,
               status: Annotated[list[Status] | None, Query(description="Default: open and "
                                                            "escalated.")] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """Tickets in claim order, each with its position and explanation now."""
    return cases.queue(lanes=lane, statuses=status, limit=limit)


@router.post("/claim", response_model=CaseOut,
             responses={204: {"description": "Nothing to claim in these lanes."}})
def claim(key: AgentKey, cases: CasesDep, body: ClaimIn | None = None) -> Any:
    """Take the top ticket with a lease; heartbeat to keep it, or it returns to the queue."""
    got = cases.claim(key.name, body.lanes if body else None, key_id=key.key_id)
    return Response(status_code=204) if got is None else got
