"""The one place where the parts are built: settings -> store -> scorer -> cases and policy.

The API's lifespan, every CLI command and the Ray actor take what this module builds, so a
setting means the same everywhere (TRIAGE_MAX_TEXT_CHARS reaches the checks and text
preparation alike, TRIAGE_THREADS the runtime, TRIAGE_PRIORITY_POLICY the queue).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from triage.scoring import Score, Scorer
from triage.settings import Settings

if TYPE_CHECKING:  # imported where used: `triage score --text` needs only the scorer
    from triage.cases import Cases
    from triage.priority import PolicyConfig
    from triage.store import Database


def build_store(settings: Settings, *, migrate: bool = False) -> Database:
    """The store at TRIAGE_DATABASE_URL (the SQLite file under TRIAGE_HOME by default)."""
    from triage.store import Database

    db = Database(settings.resolved_database_url())
    if migrate:
        db.migrate()
    return db


def build_policy(settings: Settings) -> PolicyConfig:
    """The queue policy: the documented defaults overridden by TRIAGE_PRIORITY_POLICY."""
    from triage.priority import PolicyConfig

    return PolicyConfig.from_dict(settings.priority_policy or {})


def build_scorer(settings: Settings, *, model_dir: Path | None = None,
                 threads: int | None = None, batch_size: int | None = None,
                 slots: int = 0, preload: bool = True) -> Scorer:
    """The language gate and the model from `model_dir` (TRIAGE_MODEL_DIR by default).

    `threads` and `batch_size` override TRIAGE_THREADS and TRIAGE_BATCH_SIZE for one caller
    (a server's inference slots, a batch engine's workers).
    """
    return Scorer.from_dir(
        model_dir or settings.resolved_model_dir(),
        threads=settings.threads if threads is None else threads,
        batch_size=batch_size or settings.batch_size,
        max_chars=settings.max_text_chars, slots=slots, preload=preload)


def build_cases(settings: Settings, db: Database, scorer: Scorer, *,
                policy: PolicyConfig | None = None,
                clock: Callable[[], datetime] | None = None,
                on_score: Callable[[Score], None] | None = None) -> Cases:
    """Every state change of a case, on `db`, scored by `scorer`, placed by the policy."""
    from triage.cases import Cases, utcnow

    return Cases(db, scorer, policy=policy or build_policy(settings),
                 lease_seconds=settings.lease_seconds, explain_top=settings.explain_top,
                 review_seconds=settings.review_seconds, clock=clock or utcnow,
                 on_score=on_score)
