"""API keys: created once and shown once, stored as SHA-256 hashes, each with one role.

Roles: `agent` may score and work the queue; `supervisor` may also act on cases other agents
hold (release, resolve, escalate, reply); `admin` may do all that and manage keys. A key looks like
`trg_<43 random characters>`; its first 8 characters (`prefix`) are kept in clear so a key
can be recognised in `triage keys list` without being usable.

`KeyCache` keeps keys that were found valid for a few seconds, so a busy scoring endpoint
does not query the database on every request. A revocation clears the cache of the process
that made it at once; other processes (workers, `triage keys revoke`) stop accepting the key
within the cache's lifetime (`TRIAGE_KEY_CACHE_SECONDS`, default 5 s; 0 turns the cache
off): until then a revoked key still works there.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from triage.errors import AuthError, Forbidden, InputError, NotFound
from triage.store import Database
from triage.store import keys as rows

ROLES = ("agent", "supervisor", "admin")
KEY_PREFIX = "trg_"
_RANK = {"agent": 1, "supervisor": 2, "admin": 3}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key (its id holds claims), its name (shown) and role."""

    key_id: int
    name: str
    role: str

    @property
    def supervises(self) -> bool:
        """May act on cases other agents hold."""
        return _RANK[self.role] >= _RANK["supervisor"]

    def require(self, role: str) -> Principal:
        """Self if this key's role includes `role`; Forbidden otherwise."""
        if _RANK[self.role] < _RANK[role]:
            raise Forbidden(f"this needs a key with role {role!r}; key {self.name!r} has role "
                            f"{self.role!r}. Ask an admin for a key: triage keys create "
                            f"--role {role}")
        return self


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(db: Database, name: str, role: str) -> tuple[str, dict[str, Any]]:
    """A new key; returns the key itself (shown once) and its stored description."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("a key needs a name of 1 to 200 characters, e.g. the agent's name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        row = rows.add_key(s, name=name, prefix=key[:8], key_hash=hash_key(key), role=role,
                           now=datetime.now(UTC))
        return key, describe(row)


def authenticate(db: Database, key: str | None) -> Principal:
    """The caller behind a key; AuthError for a missing, unknown or revoked key."""
    if not key:
        raise AuthError("missing API key; send the header 'Authorization: Bearer <key>' "
                        "(create one with: triage keys create --role agent)")
    with db.read() as s:
        row = rows.find_key(s, hash_key(key))
    if row is None:
        raise AuthError("unknown API key; check the key, or create one with "
                        "triage keys create")
    if row.revoked_at is not None:
        raise AuthError(f"API key {row.prefix}... was revoked on {row.revoked_at:%Y-%m-%d}")
    return Principal(key_id=row.id, name=row.name, role=row.role)


class KeyCache:
    """Valid keys seen in the last `seconds`, by hash (at most `size`, oldest dropped first).

    Only successes are kept: an unknown or revoked key is looked up every time.
    """

    def __init__(self, seconds: float, size: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None) -> Principal | None:
        if not key or self.seconds <= 0:
            return None
        digest = hash_key(key)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, key: str, who: Principal) -> None:
        if self.seconds <= 0:
            return
        digest = hash_key(key)
        with self._lock:
            self._entries[digest] = (self.clock() + self.seconds, who)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def list_keys(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return [describe(row) for row in rows.list_keys(s)]


def revoke_key(db: Database, key_id: int) -> dict[str, Any]:
    with db.write() as s:
        row = rows.get_key(s, key_id)
        if row is None:
            raise NotFound(f"no API key with id {key_id}; see triage keys list")
        return describe(rows.revoke_key(s, row, datetime.now(UTC)))


def describe(row: Any) -> dict[str, Any]:
    """A key's public description (never the key or its hash)."""
    return {
        "id": row.id, "name": row.name, "role": row.role, "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
