"""The key cache: a valid key is not looked up again for a few seconds; revocations win."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import AuthError
from triage.keys import KeyCache, Principal, authenticate, create_key, revoke_key
from triage.store import Database


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'keys.db'}")
    database.migrate()
    return database


def test_key_cache_keeps_valid_keys_for_its_lifetime_only() -> None:
    clock = Clock()
    cache = KeyCache(5, clock=clock)
    who = Principal(key_id=1, name="alice", role="agent")
    assert cache.get("trg_a") is None
    cache.put("trg_a", who)
    assert cache.get("trg_a") == who
    assert cache.get("trg_b") is None
    clock.now += 4.9
    assert cache.get("trg_a") == who
    clock.now += 0.2
    assert cache.get("trg_a") is None


def test_key_cache_is_bounded_and_can_be_off() -> None:
    cache = KeyCache(60, size=2)
    for i in range(3):
        cache.put(f"trg_{i}", Principal(key_id=i, name=f"k{i}", role="agent"))
    assert cache.get("trg_0") is None
    assert cache.get("trg_1") is not None and cache.get("trg_2") is not None
    off = KeyCache(0)
    off.put("trg_x", Principal(key_id=9, name="x", role="agent"))
    assert off.get("trg_x") is None
    assert off.get(None) is None and off.get("") is None


def test_a_key_revoked_elsewhere_stops_working_when_its_cache_entry_expires(
        db: Database) -> None:
    """Another process (a second worker, `triage keys revoke`) revoked the key."""
    clock = Clock()
    cache = KeyCache(5, clock=clock)
    key, described = create_key(db, "alice", "agent")
    cache.put(key, authenticate(db, key))
    revoke_key(db, described["id"])
    assert cache.get(key) is not None  # still trusted for the rest of its 5 seconds
    clock.now += 5.0
    assert cache.get(key) is None
    with pytest.raises(AuthError, match="revoked"):
        authenticate(db, key)
