"""The queue store on both databases: migrations, case numbers, time, transactions, claims."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from triage.errors import StoreError
from triage.store import Database
from triage.store import queue as q
from triage.store import repository as repo
from triage.store.database import DuplicateRow, head_revision
from triage.store.tables import Base, Ticket

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def add(s: Session, number: int, *, boost: float = 0.0, lane: str = "standard",
        status: str = "open", external_id: str | None = None, waited: float = 0.0) -> Ticket:
    since = NOW - timedelta(minutes=waited)
    return repo.add_ticket(
        s, case_number=f"CS-2026-{number:06d}", source="api", external_id=external_id,
        channel="email", status=status, lane=lane, policy_version="priority.v1",
        boost_minutes=boost, queue_key=q.queue_key(since, boost), waiting_since=since,
        created_at=NOW, updated_at=NOW, scorable=True, escalated_by_agent=False,
        repeat_contacts=0)


def test_store_migration_matches_the_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert db.revision() == head_revision()


def test_store_migrates_an_empty_database_up_and_down(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from triage.store.database import alembic_config

    db = Database(f"sqlite:///{tmp_path / 'new' / 'triage.db'}")
    assert db.revision() is None
    assert db.migrate() == head_revision() == "0004"
    assert {"tickets", "messages", "audit_log", "api_keys"} <= set(inspect(db.engine)
                                                                   .get_table_names())
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    db.close()


def test_store_migrate_twice_is_a_no_op(db: Database) -> None:
    assert db.migrate() == head_revision()
    assert db.migrate() == head_revision()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """An empty database: a new SQLite file, or a new PostgreSQL schema (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    from tests.conftest import PG_URL

    schema = f"triage_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - no server: skip like the other PG tests
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_store_migration_0002_carries_scores_over_and_back(empty_url: str) -> None:
    """Cases scored under 0001 (a column per head) keep their scores as data, and back."""
    from alembic import command
    from sqlalchemy import text

    from triage.store.database import alembic_config

    db = Database(empty_url)
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    old = {"n": NOW, "t": True, "f": False}
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tickets (id, case_number, source, channel, status, lane, frustration, "
            "churn_risk, urgency, scorable, repeat_contacts, escalated_by_agent, "
            "policy_version, boost_minutes, queue_key, waiting_since, created_at, updated_at) "
            "VALUES (1, 'CS-2026-000001', 'api', 'email', 'open', 'standard', 0.9, 0.1, 0.5, "
            ":t, 0, :f, 'priority.v1', 0, 0, :n, :n, :n)"), old)
        conn.execute(text(
            "INSERT INTO messages (id, ticket_id, author, text, created_at, frustration, "
            "churn_risk, urgency, scorable) VALUES (1, 1, 'customer', 'hi', :n, 0.9, 0.1, 0.5, "
            ":t), (2, 1, 'agent', 'hello', :n, NULL, NULL, NULL, NULL)"), old)
        conn.execute(text(
            "INSERT INTO score_history (id, ticket_id, message_id, at, frustration, churn_risk, "
            "urgency, lane, boost_minutes, policy_version) VALUES (1, 1, 1, :n, 0.9, 0.1, 0.5, "
            "'standard', 12.5, 'priority.v1')"), old)
        conn.execute(text(
            "INSERT INTO feedback (id, ticket_id, message_id, at, actor, frustration, urgency) "
            "VALUES (1, 1, 1, :n, 'bob', 1, 0)"), old)
    assert db.migrate() == head_revision()  # through 0002 and the migrations after it
    scores = {"frustration": 0.9, "churn_risk": 0.1, "urgency": 0.5}
    with db.read() as s:
        t = repo.find_ticket(s, "1")
        assert t is not None and t.scores == scores
        assert [m.scores for m in repo.messages(s, 1)] == [scores, None]
        assert [h.scores for h in repo.history(s, 1)] == [scores]
        assert [f.labels for f in repo.feedback(s, 1)] == [{"frustration": 1, "urgency": 0}]
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with db.engine.begin() as conn:
        got = conn.execute(text("SELECT frustration, churn_risk, urgency FROM tickets")).all()
        labels = conn.execute(text("SELECT frustration, churn_risk, urgency FROM feedback")).all()
        kept = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
    assert [tuple(r) for r in got] == [(0.9, 0.1, 0.5)]
    assert [tuple(r) for r in labels] == [(1, None, 0)] and kept == 2
    db.close()


def test_store_case_numbers_count_per_year(db: Database) -> None:
    with db.write() as s:
        got = [repo.next_case_number(s, 2026), repo.next_case_number(s, 2026),
               repo.next_case_number(s, 2027)]
    assert got == ["CS-2026-000001", "CS-2026-000002", "CS-2027-000001"]


def test_store_case_numbers_are_unique_under_concurrency(db: Database) -> None:
    numbers: list[str] = []

    def take() -> None:
        for _ in range(5):
            with db.write() as s:
                numbers.append(repo.next_case_number(s, 2026))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == [f"CS-2026-{n:06d}" for n in range(1, 21)]


@pytest.mark.parametrize("ref", ["CS-2026-000007", "cs-2026-7", " CS-2026-0000007 "])
def test_store_finds_a_ticket_by_any_spelling_of_its_case_number(db: Database, ref: str) -> None:
    with db.write() as s:
        tid = add(s, 7).id
    with db.read() as s:
        found = repo.find_ticket(s, ref)
        assert found is not None and found.id == tid
        assert repo.find_ticket(s, str(tid)) is not None
        assert repo.find_ticket(s, "CS-2026-000008") is None
        assert repo.find_ticket(s, "zd-4711") is None


def test_store_keeps_times_in_utc(db: Database) -> None:
    berlin = timezone(timedelta(hours=1))
    with db.write() as s:
        t = add(s, 1)
        repo.update_ticket(s, t, lease_expires_at=datetime(2026, 3, 2, 11, 0, tzinfo=berlin))
    with db.read() as s:
        back = repo.find_ticket(s, "CS-2026-000001")
        assert back is not None
        assert back.lease_expires_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        assert back.lease_expires_at.tzinfo is not None
        assert back.waiting_since == NOW


def test_store_refuses_naive_datetimes(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.write() as s:
        t = add(s, 1)
        repo.update_ticket(s, t, lease_expires_at=datetime(2026, 3, 2, 11, 0))


def test_store_write_is_all_or_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        add(s, 1)
        repo.add_audit(s, None, NOW, "test", "created")
        raise RuntimeError("killed mid-request")
    with db.read() as s:
        assert repo.find_ticket(s, "CS-2026-000001") is None
        assert repo.count_actions(s, "created") == 0


def test_store_external_id_is_unique_per_source(db: Database) -> None:
    with db.write() as s:
        add(s, 1, external_id="zd-4711")
    with pytest.raises(DuplicateRow), db.write() as s:
        add(s, 2, external_id="zd-4711")
    with db.write() as s:  # another source may reuse the id; no id at all never collides
        t = add(s, 3, external_id=None)
        u = add(s, 4, external_id=None)
        repo.update_ticket(s, u, source="freshdesk", external_id="zd-4711")
        assert t.id != u.id
    with db.read() as s:
        found = repo.find_by_external_id(s, "api", "zd-4711")
        assert found is not None and found.case_number == "CS-2026-000001"


def test_store_queue_orders_by_waiting_plus_boost(db: Database) -> None:
    with db.write() as s:
        add(s, 1, waited=30)               # position 30
        add(s, 2, boost=45)                # position 45
        add(s, 3, waited=10, boost=10)     # position 20
        add(s, 4, waited=90, status="resolved")
    with db.read() as s:
        rows = q.list_queue(s, lanes=["standard"], statuses=list(q.QUEUED), limit=10)
        assert [t.case_number[-1] for t in rows] == ["2", "1", "3"]
        assert q.depth_by_lane(s) == {"standard": 3}


def test_store_claim_next_skips_other_lanes_and_claimed_tickets(db: Database) -> None:
    with db.write() as s:
        add(s, 1, boost=100, lane="supervisor", status="escalated")
        add(s, 2, boost=90, status="claimed")
        add(s, 3, boost=10)
    with db.write() as s:
        top = q.claim_next(s, ["standard", "needs_triage"])
        assert top is not None and top.case_number == "CS-2026-000003"
    with db.write() as s:
        top = q.claim_next(s, ["supervisor"])
        assert top is not None and top.case_number == "CS-2026-000001"


def test_store_claims_never_hand_one_ticket_to_two_agents(db: Database) -> None:
    with db.write() as s:
        for n in range(1, 6):
            add(s, n, boost=n)
    won: list[str] = []
    barrier = threading.Barrier(8)

    def agent(name: str) -> None:
        barrier.wait()
        with db.write() as s:
            t = q.claim_next(s, ["standard"])
            time.sleep(0.02)  # widen the window between reading the top and taking it
            if t is not None:
                repo.update_ticket(s, t, status="claimed", lease_holder=name)
                won.append(t.case_number)

    threads = [threading.Thread(target=agent, args=(f"agent-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [f"CS-2026-{n:06d}" for n in range(1, 6)]
    with db.read() as s:
        assert q.depth_by_status(s) == {"claimed": 5}


def test_store_finds_due_work(db: Database) -> None:
    with db.write() as s:
        a = add(s, 1)
        repo.update_ticket(s, a, status="claimed", lease_holder="x",
                           lease_expires_at=NOW - timedelta(seconds=1))
        b = add(s, 2)
        repo.update_ticket(s, b, review_at=NOW + timedelta(minutes=5))
        add(s, 3)
    with db.read() as s:
        assert q.has_due_work(s, NOW)
    with db.write() as s:
        assert [t.case_number for t in q.lock_due_work(s, NOW)] == ["CS-2026-000001"]
        due_later = q.lock_due_work(s, NOW + timedelta(minutes=5))
        assert [t.case_number for t in due_later] == ["CS-2026-000001", "CS-2026-000002"]


def test_store_unreachable_database_is_a_store_error() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StoreError, match="unavailable"):
        db.ping()
    db.close()
