"""Fixtures shared by all tests: a real tiny model, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples" / "parts"
SHARED_DEV = ROOT.parent / "shared" / "data" / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, servable model directory: a 2-layer encoder trained for a few steps.

    Its scores are real but close to random; tests that need controlled scores use a fake
    model at the Scorer seam instead.
    """
    from training import TrainConfig, train

    out = tmp_path_factory.mktemp("tiny-model")
    config = TrainConfig(base_model="tiny", epochs=1, max_steps=12, batch_size=16, seed=7)
    train(config, SAMPLES, out, log=lambda _: None)
    return out


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    """A Scorer (language gate + ONNX runtime) over the tiny model."""
    from triage.scoring import Scorer

    return Scorer.from_dir(tiny_model_dir, threads=1)


# --- the service: databases (SQLite file and PostgreSQL) and a scorer with set scores ---

PG_URL = os.environ.get("TRIAGE_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_url() -> object:
    """A fresh PostgreSQL schema for this test run (dropped at the end); skips if no server."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    schema = f"triage_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_pg_url(pg_url: str) -> str:
    """The session's PostgreSQL schema, migrated once."""
    from triage.store import Database

    database = Database(pg_url)
    database.migrate()
    database.close()
    return pg_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    from triage.store import Database

    path = tmp_path_factory.mktemp("sqlite-template") / "triage.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.close()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty store: a SQLite file, then PostgreSQL (emptied for each test)."""
    if request.param == "sqlite":
        import shutil

        target = tmp_path / "triage.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("migrated_pg_url")
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url: str):  # type: ignore[no-untyped-def]
    """The store on the parametrized database (already migrated)."""
    from triage.store import Database

    database = Database(database_url)
    yield database
    database.close()


class KeywordModel:
    """A deterministic model at the Scorer seam: each head's score comes from keywords.

    A head scores the highest weight of its keywords found in the text (0.05 if none), so
    tests can write messages whose scores they know ("furious" -> frustration 0.9).
    """

    heads = ("frustration", "churn_risk", "urgency")
    version = "keyword-test-1"
    KEYWORDS = {
        "frustration": {"furious": 0.95, "unacceptable": 0.9, "angry": 0.8, "annoyed": 0.5},
        "churn_risk": {"cancel": 0.9, "competitor": 0.8, "leaving": 0.85},
        "urgency": {"outage": 0.97, "down": 0.9, "urgent": 0.85, "asap": 0.7},
    }

    def predict_proba(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np

        if isinstance(texts, str):
            texts = [texts]
        rows = []
        for text in texts:
            words = text.lower()
            rows.append([max([w for k, w in self.KEYWORDS[h].items() if k in words],
                             default=0.05) for h in self.heads])
        return np.array(rows, dtype=np.float32).reshape(len(texts), 3)


@pytest.fixture
def keyword_scorer():  # type: ignore[no-untyped-def]
    """A Scorer (real language gate) over KeywordModel."""
    from triage.scoring import Scorer

    return Scorer(KeywordModel())


class Clock:
    """A settable clock for the service: tests move time instead of sleeping."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, **kw: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def standin():  # type: ignore[no-untyped-def]
    """A stand-in helpdesk API on 127.0.0.1 (tests/helpdesk_standin.py)."""
    from helpdesk_standin import Standin

    server = Standin().start()
    yield server
    server.stop()


@pytest.fixture
def hooks(tmp_path: Path, database_url: str, keyword_scorer, clock: Clock,  # type: ignore[no-untyped-def]
          standin):
    """The app on each store with every connector pointed at the stand-in helpdesk; the
    outbox worker is driven by the test (`hooks.deliver()`)."""
    from connector_helpers import Hooks, settings_for
    from fastapi.testclient import TestClient

    from triage.api import create_app

    app = create_app(settings_for(tmp_path, database_url, standin.url), scorer=keyword_scorer,
                     clock=clock)
    with TestClient(app) as client:
        yield Hooks(client)
