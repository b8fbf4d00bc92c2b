"""Fixtures shared by all tests: real tiny models.

`tiny_model_dir` is a committed ONNX model (tests/fixtures/tiny-model, built by
tests/fixtures/make_tiny_model.py): serving tests load it without torch and without
training anything. `trained_model_dir` and `legal_model_dir` are trained once per session
(a 2-layer encoder, a few steps) for the tests of training itself; they skip, with the
reason, where the `train` extra (torch, transformers) is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import ClassVar

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples" / "parts"
SHARED_DEV = ROOT.parent / "shared" / "data" / "eval" / "dev.jsonl"
TINY_MODEL = Path(__file__).resolve().parent / "fixtures" / "tiny-model"
LEGAL_DESCRIPTION = "threatens legal action"


def require_training() -> None:
    """Skip the calling test unless the `train` extra (torch, transformers) is installed."""
    reason = "needs the train extra (torch, transformers): pip install '.[train]'"
    pytest.importorskip("torch", reason=reason)
    pytest.importorskip("transformers", reason=reason)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, servable model directory with our three heads: seeded random weights, int8
    ONNX, a WordPiece tokenizer over our samples' words. Copied, so a test cannot change
    the committed files. Its scores are real but meaningless; tests that need controlled
    scores use a fake model at the Scorer seam instead.
    """
    out = tmp_path_factory.mktemp("tiny") / "tiny-model"
    shutil.copytree(TINY_MODEL, out)
    return out


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    """A Scorer (language gate + ONNX runtime) over the tiny model."""
    from triage.scoring import Scorer

    return Scorer.from_dir(tiny_model_dir, threads=1)


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained from our samples: a 2-layer encoder, a few steps, our three heads."""
    require_training()
    from training import TrainConfig, train

    out = tmp_path_factory.mktemp("trained-model")
    config = TrainConfig(base_model="tiny", epochs=1, max_steps=12, batch_size=16, seed=7)
    train(config, SAMPLES, out, log=lambda _: None)
    return out


_LEGAL = re.compile(r"lawyer|legal action|\bsue\b|court|attorney|ombudsman|solicitor",
                    re.IGNORECASE)
_THREATS = ["If this is not fixed by Friday my lawyer will be in touch.",
            "I am taking you to small claims court over this charge.",
            "Consider this formal notice: I will sue for the lost wages.",
            "My attorney has copies of every email and will file a complaint.",
            "Refund me or I go to the ombudsman and start legal action."]


def write_legal_data(path: Path, per_part: int = 60, threats: int = 80) -> Path:
    """A labelled file with a fourth head, `legal_threat`: rows of our samples (labelled by
    a keyword rule) and written legal threats (frustration 1, the other heads missing)."""
    rows = []
    for part in sorted(SAMPLES.glob("*.jsonl")):
        for line in part.read_text(encoding="utf-8").splitlines()[:per_part]:
            row = json.loads(line)
            row["legal_threat"] = int(bool(_LEGAL.search(row["text"])))
            rows.append(row)
    rows += [{"id": f"legal-{i:03d}", "text": f"{_THREATS[i % len(_THREATS)]} Order {1000 + i}.",
              "frustration": 1, "legal_threat": 1} for i in range(threats)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def legal_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The labelled file behind `legal_model_dir` (our three heads plus `legal_threat`)."""
    return write_legal_data(tmp_path_factory.mktemp("legal-data") / "legal.jsonl")


@pytest.fixture(scope="session")
def legal_model_dir(tmp_path_factory: pytest.TempPathFactory, legal_data: Path) -> Path:
    """A trained, servable model with four heads: frustration, churn_risk, urgency and a data
    scientist's own `legal_threat` (described as "threatens legal action")."""
    require_training()
    from training import TrainConfig, train

    out = tmp_path_factory.mktemp("legal-model")
    config = TrainConfig(base_model="tiny", epochs=1, max_steps=8, batch_size=16, seed=7,
                         head_descriptions={"legal_threat": LEGAL_DESCRIPTION})
    train(config, legal_data, out, log=lambda _: None)
    return out


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
    KEYWORDS: ClassVar[dict[str, dict[str, float]]] = {
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
