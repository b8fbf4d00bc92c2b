"""Alembic environment: runs on the connection `Database.migrate()` hands over."""

from __future__ import annotations

from alembic import context

from triage.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `triage migrate` (Database.migrate())")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
