"""Dependencies of the routes: the process's service, and the caller's key and role.

They are `async def` on purpose: FastAPI runs a plain `def` dependency on a worker thread,
and each such hop costs a thread handoff per request. Only a key the cache does not know
goes to the database (on a worker thread).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from triage.api.state import Service
from triage.cases import Cases
from triage.errors import StoreError
from triage.keys import Principal, authenticate

bearer = HTTPBearer(auto_error=False, description="An API key from `triage keys create`.")


async def get_service(request: Request) -> Service:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise StoreError("the service is starting or stopping; retry in a moment")
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_cases(service: ServiceDep) -> Cases:
    return service.cases


CasesDep = Annotated[Cases, Depends(get_cases)]


async def caller(service: ServiceDep,
                 creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                 ) -> Principal:
    """The key's owner; 401 without a valid `Authorization: Bearer <key>`."""
    key = creds.credentials if creds else None
    who = service.keys.get(key)
    if who is None:
        who = await run_in_threadpool(authenticate, service.db, key)
        service.keys.put(key or "", who)
    return who


async def agent(who: Annotated[Principal, Depends(caller)]) -> Principal:
    return who.require("agent")


async def admin(who: Annotated[Principal, Depends(caller)]) -> Principal:
    return who.require("admin")


AnyKey = Annotated[Principal, Depends(caller)]
AgentKey = Annotated[Principal, Depends(agent)]
AdminKey = Annotated[Principal, Depends(admin)]


async def scoring_turn(who: AgentKey, service: ServiceDep) -> AsyncIterator[Principal]:
    """An agent key holding a turn at the model for the request (429 when none is free)."""
    async with service.admission.turn(who.key_id):
        yield who


async def any_scoring_turn(who: AnyKey, service: ServiceDep) -> AsyncIterator[Principal]:
    """Any valid key holding a turn at the model for the request."""
    async with service.admission.turn(who.key_id):
        yield who


ScoringAgentKey = Annotated[Principal, Depends(scoring_turn)]
ScoringKey = Annotated[Principal, Depends(any_scoring_turn)]
