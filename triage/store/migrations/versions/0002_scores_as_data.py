"""scores as data

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Per-head scores move from one column per head (frustration, churn_risk, urgency) to one
JSON column `scores` (head -> score) on tickets, messages and score_history, and agents'
labels to `feedback.labels` (head -> 0/1), so that a model with other heads needs no
migration. Existing rows are carried over: scores only where all three heads were set (as
the service read them), labels without the heads nobody labelled. The downgrade puts the
three columns back from the JSON (other heads are dropped). Tickets also get
`frustration_rise`, the change of frustration across the customer's messages that
`priority.v2` reads.

Columns are dropped with a plain ALTER TABLE, also on SQLite (3.35 and later): a batch
re-creation of `tickets` would drop the table, and with foreign keys on, SQLite's implicit
DELETE would cascade to every message.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

HEADS = ('frustration', 'churn_risk', 'urgency')
SCORED = ('tickets', 'messages', 'score_history')


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # the change of frustration across a conversation (priority.v2); NULL until re-scored
    op.add_column('tickets', sa.Column('frustration_rise', sa.Float(), nullable=True))
    for table in (*SCORED, 'feedback'):
        column = 'labels' if table == 'feedback' else 'scores'
        op.add_column(table, sa.Column(column, sa.JSON(), nullable=True))
        op.execute(f'UPDATE {table} SET {column} = {_to_json(table, sqlite)}')
        for head in HEADS:  # plain columns: ALTER TABLE DROP COLUMN (SQLite >= 3.35)
            op.drop_column(table, head)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in (*SCORED, 'feedback'):
        column = 'labels' if table == 'feedback' else 'scores'
        kind = sa.Integer() if table == 'feedback' else sa.Float()
        for head in HEADS:
            op.add_column(table, sa.Column(head, kind, nullable=True))
        sets = ', '.join(f'{h} = {_from_json(column, h, table, sqlite)}' for h in HEADS)
        op.execute(f'UPDATE {table} SET {sets}')
        op.drop_column(table, column)
    op.drop_column('tickets', 'frustration_rise')


def _to_json(table: str, sqlite: bool) -> str:
    pairs = ', '.join(f"'{h}', {h}" for h in HEADS)
    if table == 'feedback':  # only the heads someone labelled
        return f"json_patch('{{}}', json_object({pairs}))" if sqlite else \
            f'json_strip_nulls(json_build_object({pairs}))'
    whole = ' AND '.join(f'{h} IS NOT NULL' for h in HEADS)
    build = f'json_object({pairs})' if sqlite else f'json_build_object({pairs})'
    return f'CASE WHEN {whole} THEN {build} END'


def _from_json(column: str, head: str, table: str, sqlite: bool) -> str:
    if sqlite:
        return f"json_extract({column}, '$.{head}')"
    kind = 'integer' if table == 'feedback' else 'double precision'
    return f"CAST({column} ->> '{head}' AS {kind})"
