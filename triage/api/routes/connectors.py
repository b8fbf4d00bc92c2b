"""Helpdesk webhooks in (`POST /v1/connectors/{name}`) and the outbox's state (admin).

A webhook carries no API key: each helpdesk proves itself by its own signature or shared
secret (triage/connectors/). The answer comes as soon as the message is stored; the
write-back goes out from the outbox.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from triage.api.deps import AdminKey, ServiceDep
from triage.api.schemas import ConnectorResultOut, ErrorOut, OutboxOut
from triage.connectors import Webhook
from triage.connectors.gateway import outbox_state
from triage.errors import StoreError

router = APIRouter(prefix="/v1/connectors", tags=["connectors"],
                   responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut},
                              422: {"model": ErrorOut}})
Name = Annotated[str, Path(max_length=32, description="chatwoot, zammad, zendesk, freshdesk")]


@router.get("/outbox", response_model=OutboxOut)
def get_outbox(key: AdminKey, service: ServiceDep) -> dict[str, Any]:
    """Write-backs per connector and state, and the newest dead letters."""
    return outbox_state(service.db)


@router.post("/{name}", response_model=ConnectorResultOut)
async def webhook(name: Name, request: Request, service: ServiceDep) -> dict[str, Any]:
    """A helpdesk's own webhook: verified, deduplicated, scored, its case kept."""
    if service.gateway is None:
        raise StoreError("the connectors are starting; retry in a moment")
    hook = Webhook(headers={k.lower(): v for k, v in request.headers.items()},
                   query=dict(request.query_params), body=await request.body(),
                   received=time.time())
    return await run_in_threadpool(service.gateway.receive, name, hook)
