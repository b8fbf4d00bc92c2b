"""The database: engine, transactions and migrations, for SQLite and PostgreSQL.

Every state change runs in one `write()` transaction. On SQLite (WAL mode) a write
transaction starts with `BEGIN IMMEDIATE`, so two writers never interleave; readers keep
reading the last committed state. On PostgreSQL writers lock the rows they change (claims
use `SELECT ... FOR UPDATE SKIP LOCKED`, see `queue.py`). Migrations are Alembic revisions
under `migrations/versions/`, applied by `migrate()` (at startup and by `triage migrate`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from triage.errors import Conflict, StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_411_001  # pg_advisory_lock key: one migrator at a time
log = logging.getLogger("triage.store")


class DuplicateRow(Conflict):
    """A write lost a race on a unique key (the row it meant to create now exists)."""


class Database:
    """One engine and its sessions. Build once per process; `close()` at shutdown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self.dialect = self.engine.dialect.name
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(triage_write=True)
        self._writes = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (its transaction is rolled back at the end)."""
        with _store_errors(), self._reads() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with _store_errors(), self._writes() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        with _store_errors(), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def ping_write(self, timeout: float = 1.0) -> None:
        """Raise StoreError unless a write transaction could start within `timeout` seconds
        (a locked SQLite file, a read-only PostgreSQL)."""
        with _store_errors(), self.engine.connect() as conn:
            if self.dialect == "sqlite":
                _sqlite_try_write(conn, timeout)
            elif conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
                raise StoreError("the database accepts no writes (read-only transaction); "
                                 "check that TRIAGE_DATABASE_URL points at the primary")

    def migrate(self) -> str:
        """Apply every migration not yet applied; returns the revision now in place."""
        with _store_errors(), self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            return _upgrade(conn)

    def revision(self) -> str | None:
        """The applied migration revision, or None for an empty database."""
        from alembic.runtime.migration import MigrationContext

        with _store_errors(), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic Config pointing at our migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision: the schema this code reads and writes."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def _upgrade(conn: Connection) -> str:
    from alembic import command

    command.upgrade(alembic_config(conn), "head")
    return head_revision()


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_try_write(conn: Connection, timeout: float) -> None:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("ROLLBACK")
    except Exception as exc:
        raise StoreError(f"the database takes no writes now ({exc}); another process holds "
                         "the SQLite file's write lock, or the disk is read-only") from exc
    finally:
        raw.execute("PRAGMA busy_timeout=30000")


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("triage_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def _store_errors() -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        raise DuplicateRow("a concurrent request created the same record; retry") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_operational(exc):
            log.error("database error: %s", exc.orig)
            raise StoreError(f"the database is unavailable or busy ({type(exc.orig).__name__}); "
                             "retry, and check TRIAGE_DATABASE_URL") from exc
        raise


def _is_operational(exc: DBAPIError) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))
