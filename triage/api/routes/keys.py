"""API key management (admin keys only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from triage import keys
from triage.api.deps import AdminKey, ServiceDep
from triage.api.schemas import ErrorOut, KeyCreatedOut, KeyIn, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                              422: {"model": ErrorOut},
                              429: {"model": ErrorOut}})


@router.post("", response_model=KeyCreatedOut, status_code=201)
def create_key(body: KeyIn, key: AdminKey, service: ServiceDep) -> dict[str, Any]:
    """A new key; the response holds the key itself, shown this once."""
    secret, described = keys.create_key(service.db, body.name, body.role)
    return {**described, "key": secret}


@router.get("", response_model=list[KeyOut])
def list_keys(key: AdminKey, service: ServiceDep) -> list[dict[str, Any]]:
    return keys.list_keys(service.db)


@router.delete("/{key_id}", response_model=KeyOut, responses={404: {"model": ErrorOut}})
def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**53)], key: AdminKey,
               service: ServiceDep) -> dict[str, Any]:
    """Revoke a key; requests with it get 401 from now on in this process. Other workers
    and servers may accept it for up to TRIAGE_KEY_CACHE_SECONDS more (default 5 s)."""
    revoked = keys.revoke_key(service.db, key_id)
    service.keys.clear()
    return revoked
