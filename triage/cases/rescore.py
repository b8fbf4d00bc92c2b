"""Re-scoring unresolved cases with the current model (`triage rescore-queue`).

When a new model is promoted, tickets already in the queue still carry the old model's
scores. For each unresolved ticket, page by page:

1. read its recent customer messages (the `WINDOW` its ticket-level scores come from) and
   skip it when every one was already scored by this model (unless `everything`);
2. score the messages outside any transaction (one batched model call per page);
3. in one write transaction per page, lock each ticket, store the new message scores,
   recompute the ticket's scores (recency-weighted max, trend), place it again with the
   priority policy, and write a score-history row (new scores and model version) and a
   `rescored` audit entry with the scores, lane and position before and after.

`dry_run` does all of it and rolls each transaction back, so the report (how many tickets
change lane, the largest moves) is exactly what a real run would do at that moment.
A message that arrives while a page is being scored is scored inside the transaction.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from triage.cases.conversation import WINDOW, conversation, message_fields
from triage.cases.placement import Placement
from triage.cases.views import scores_of
from triage.errors import InputError
from triage.scoring import Score, Scorer
from triage.store import Database
from triage.store import repository as repo
from triage.store.tables import Message

ACTOR = "rescore-queue"
SCORE_BATCH = 256


@dataclass(frozen=True)
class Move:
    """One ticket's change: lane, position now (minutes) and scores, before and after."""

    case_number: str
    lane_from: str
    lane_to: str
    position_from: float | None
    position_to: float | None
    scores_from: dict[str, float] | None
    scores_to: dict[str, float] | None
    model_from: str | None

    @property
    def delta(self) -> float:
        if self.position_from is None or self.position_to is None:
            return 0.0
        return self.position_to - self.position_from

    def as_dict(self) -> dict[str, Any]:
        return {"case_number": self.case_number, "lane": [self.lane_from, self.lane_to],
                "position_minutes": [_round(self.position_from), _round(self.position_to)],
                "moved_minutes": round(self.delta, 1), "scores": [self.scores_from,
                                                                  self.scores_to],
                "model_from": self.model_from}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class RescoreReport:
    """What re-scoring did (or, in a dry run, would do)."""

    model_version: str
    dry_run: bool
    top: int = 10
    tickets: int = 0
    rescored: int = 0
    current: int = 0
    no_messages: int = 0
    messages: int = 0
    lane_changes: Counter[str] = field(default_factory=Counter)
    head_changes: Counter[str] = field(default_factory=Counter)
    _largest: list[tuple[float, int, Move]] = field(default_factory=list)
    _seq: Any = field(default_factory=itertools.count)

    def record(self, move: Move) -> None:
        self.rescored += 1
        old, new = set(move.scores_from or ()), set(move.scores_to or ())
        if old and new and old != new:
            gone, added = sorted(old - new), sorted(new - old)
            self.head_changes[f"-{','.join(gone) or 'none'} +{','.join(added) or 'none'}"] += 1
        if move.lane_from != move.lane_to:
            self.lane_changes[f"{move.lane_from}->{move.lane_to}"] += 1
        entry = (abs(move.delta), next(self._seq), move)
        if len(self._largest) < self.top:
            heapq.heappush(self._largest, entry)
        elif entry[0] > self._largest[0][0]:
            heapq.heapreplace(self._largest, entry)

    @property
    def largest_moves(self) -> list[Move]:
        return [m for _, _, m in sorted(self._largest, key=lambda e: (-e[0], e[1]))]

    def as_dict(self) -> dict[str, Any]:
        return {"model_version": self.model_version, "dry_run": self.dry_run,
                "tickets": self.tickets, "rescored": self.rescored,
                "already_current": self.current, "without_messages": self.no_messages,
                "messages_scored": self.messages,
                "lane_changes": sum(self.lane_changes.values()),
                "lane_changes_by_move": dict(self.lane_changes),
                "head_changes": dict(self.head_changes),
                "largest_moves": [m.as_dict() for m in self.largest_moves]}

    def text(self) -> str:
        verb = "would move" if self.dry_run else "moved"
        lines = [(f"{'dry run: ' if self.dry_run else ''}{self.tickets:,} unresolved tickets, "
                  f"{self.rescored:,} re-scored with {self.model_version} "
                  f"({self.current:,} already current, {self.no_messages:,} without messages)"),
                 f"{verb} {sum(self.lane_changes.values()):,} tickets between lanes"
                 + "".join(f"; {k} {v:,}" for k, v in sorted(self.lane_changes.items()))]
        for change, n in sorted(self.head_changes.items()):
            lines.append(f"{n:,} tickets scored with other heads: heads {change} "
                         "(stored scores keep their head names; a head the policy has no "
                         "weight for moves nothing)")
        for m in self.largest_moves:
            lines.append(f"  {m.case_number}: {m.delta:+.0f} min, lane {m.lane_from} -> "
                         f"{m.lane_to}")
        return "\n".join(lines)


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction so that it rolls back."""


class QueueRescorer:
    """Re-scores unresolved tickets page by page; see the module docstring.

    Args:
        db: the store.
        scorer: the model to score with (its version is recorded).
        placement: the priority policy as the service applies it.
        explain_top: phrases per head recomputed for each message (0: phrases cleared).
        everything: also re-score tickets this model already scored.
        page: tickets per transaction.
        clock: the time source.
    """

    def __init__(self, db: Database, scorer: Scorer, placement: Placement, *,
                 explain_top: int = 3, everything: bool = False, page: int = 200,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db, self.scorer, self.placement = db, scorer, placement
        self.explain_top, self.everything, self.page = explain_top, everything, page
        self.clock = clock

    def run(self, *, dry_run: bool = False, top: int = 10,
            log: Callable[[str], None] | None = None) -> RescoreReport:
        report = RescoreReport(self.scorer.version, dry_run, top)
        after = 0
        while True:
            with self.db.read() as s:
                ids = repo.unresolved_ticket_ids(s, after=after, limit=self.page)
            if not ids:
                return report
            after = ids[-1]
            self._page(ids, report, dry_run)
            if log is not None:
                log(f"{report.tickets:,} tickets examined, {report.rescored:,} re-scored")

    def _page(self, ids: list[int], report: RescoreReport, dry_run: bool) -> None:
        todo, texts = self._collect(ids, report)
        scores = self._score(texts)
        report.messages += len(scores)
        try:
            with self.db.write() as s:
                now = self.clock()
                for ticket_id in todo:
                    self._rescore(s, ticket_id, scores, now, report)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass

    def _collect(self, ids: list[int], report: RescoreReport) -> tuple[list[int], dict[int, str]]:
        """The tickets to re-score and the texts of their recent customer messages."""
        todo: list[int] = []
        texts: dict[int, str] = {}
        with self.db.read() as s:
            for ticket_id in ids:
                report.tickets += 1
                recent = repo.recent_customer_messages(s, ticket_id, WINDOW)
                if not recent:
                    report.no_messages += 1
                elif not self.everything and all(
                        m.model_version == self.scorer.version for m in recent):
                    report.current += 1
                else:
                    todo.append(ticket_id)
                    texts.update((m.id, m.text) for m in recent)
        return todo, texts

    def _score(self, texts: dict[int, str]) -> dict[int, Score]:
        """Scores by message id; a text the scorer refuses keeps its old scores."""
        usable = {i: t for i, t in texts.items() if self._usable(t)}
        ids, out = list(usable), dict[int, Score]()
        for start in range(0, len(ids), SCORE_BATCH):
            batch = ids[start:start + SCORE_BATCH]
            results = self.scorer.score([usable[i] for i in batch], explain_top=self.explain_top)
            out.update(zip(batch, results, strict=True))
        return out

    def _usable(self, text: str) -> bool:
        try:
            self.scorer.check(text)
        except InputError:
            return False
        return True

    def _rescore(self, s: Any, ticket_id: int, scores: dict[int, Score], now: datetime,
                 report: RescoreReport) -> None:
        t = repo.find_ticket(s, str(ticket_id), lock=True)
        recent = [] if t is None or t.status == "resolved" else \
            repo.recent_customer_messages(s, t.id, WINDOW)
        if t is None or not recent:
            return
        before = self.placement.at(t, now)
        lane_from, scores_from, model_from = t.lane, scores_of(t), t.model_version
        self._store(s, recent, scores)
        repo.update_ticket(s, t, **conversation(recent), model_version=self.scorer.version)
        placed = self.placement.place(s, t, now, ACTOR)
        after = self.placement.at(t, now)
        repo.add_history(s, t, now, None)
        move = Move(t.case_number, lane_from, placed.lane,
                    before.position if before else None, after.position if after else None,
                    scores_from, scores_of(t), model_from)
        repo.add_audit(s, t.id, now, ACTOR, "rescored", _audit_detail(move, t.model_version))
        report.record(move)

    def _store(self, s: Any, recent: list[Message], scores: dict[int, Score]) -> None:
        """New scores on the messages (one that arrived since the page was read is scored now)."""
        late = {m.id: m.text for m in recent
                if m.id not in scores and m.model_version != self.scorer.version}
        scores.update(self._score(late))
        for m in recent:
            if m.id in scores:
                _store_score(m, scores[m.id])
        s.flush()


def _audit_detail(move: Move, model_to: str | None) -> dict[str, Any]:
    return {"model_version": {"from": move.model_from, "to": model_to},
            "scores": {"from": move.scores_from, "to": move.scores_to},
            "lane": {"from": move.lane_from, "to": move.lane_to},
            "position_minutes": {"from": _round(move.position_from),
                                 "to": _round(move.position_to)}}


def _store_score(m: Message, score: Score) -> None:
    """A message's stored scores, as intake stores them."""
    for name, value in message_fields(score).items():
        setattr(m, name, value)
