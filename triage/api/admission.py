"""Admission to inference: a fixed number of turns, a short bounded wait line, per-key caps.

A request that scores (`/v1/score`, intake, a customer message) takes a turn first. At most
`slots` requests score at once; at most `queue` more wait, none longer than `wait` seconds;
one key holds at most `per_key` turns (running or waiting), so one caller cannot take every
turn from the others. Anything beyond is refused at once with 429 (`Overloaded`) and
`Retry-After`, before it queues behind work it would only time out on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from triage.errors import Overloaded


@dataclass(frozen=True)
class Limits:
    slots: int
    queue: int
    wait: float
    per_key: int


class Admission:
    """Turns for scoring requests (see the module docstring). Used on one event loop."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._turns = asyncio.Semaphore(limits.slots)
        self._waiting = 0
        self._by_key: Counter[int] = Counter()

    @contextlib.asynccontextmanager
    async def turn(self, key_id: int) -> AsyncIterator[None]:
        """Hold a turn for the block; Overloaded when none can be had soon."""
        self._check(key_id)
        self._by_key[key_id] += 1
        try:
            await self._acquire()
            try:
                yield
            finally:
                self._turns.release()
        finally:
            self._by_key[key_id] -= 1
            if self._by_key[key_id] <= 0:
                del self._by_key[key_id]

    def _check(self, key_id: int) -> None:
        lim = self.limits
        if self._by_key[key_id] >= lim.per_key:
            raise Overloaded(f"this key has {self._by_key[key_id]} scoring requests in "
                             f"flight, the limit per key is {lim.per_key} "
                             "(TRIAGE_MAX_PER_KEY); wait for one to finish",
                             detail={"limit": lim.per_key, "scope": "key"})
        if self._turns.locked() and self._waiting >= lim.queue:
            raise Overloaded(f"every inference slot is busy and {self._waiting} requests "
                             f"wait (limit {lim.queue}, TRIAGE_SCORE_QUEUE); retry in a "
                             "second", detail={"limit": lim.queue, "scope": "queue"})

    async def _acquire(self) -> None:
        if not self._turns.locked():
            await self._turns.acquire()  # a free slot: taken at once
            return
        self._waiting += 1
        try:
            await asyncio.wait_for(self._turns.acquire(), self.limits.wait)
        except TimeoutError:
            raise Overloaded(f"no inference slot came free within {self.limits.wait:g} s "
                             "(TRIAGE_SCORE_WAIT_SECONDS); retry in a second",
                             detail={"limit": self.limits.wait, "scope": "wait"}) from None
        finally:
            self._waiting -= 1


def limits_for(slots: int, queue: int, wait: float, per_key: int) -> Limits:
    """Limits from settings, where 0 means the default: a wait line of 4 x slots, and per
    key every slot plus half the wait line (so other keys always find room to wait)."""
    slots = max(1, slots)
    queue = queue or 4 * slots
    return Limits(slots=slots, queue=queue, wait=wait, per_key=per_key or slots + queue // 2)
