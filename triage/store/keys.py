"""API key rows. Only hashes are stored; the key itself is shown once, at creation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.store.tables import ApiKey


def add_key(s: Session, *, name: str, prefix: str, key_hash: str, role: str,
            now: datetime) -> ApiKey:
    row = ApiKey(name=name, prefix=prefix, key_hash=key_hash, role=role, created_at=now)
    s.add(row)
    s.flush()
    return row


def find_key(s: Session, key_hash: str) -> ApiKey | None:
    """The key with this hash, revoked or not."""
    return s.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()


def list_keys(s: Session) -> list[ApiKey]:
    return list(s.scalars(select(ApiKey).order_by(ApiKey.id)))


def get_key(s: Session, key_id: int) -> ApiKey | None:
    return s.get(ApiKey, key_id)


def revoke_key(s: Session, row: ApiKey, now: datetime) -> ApiKey:
    if row.revoked_at is None:
        row.revoked_at = now
        s.flush()
    return row
