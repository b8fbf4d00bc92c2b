"""connector outbox and delivery dedupe

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

`connector_outbox`: write-backs to helpdesks, delivered by the connector worker.
`connector_deliveries`: webhook delivery ids already taken in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.tables import ID, UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connector_outbox',
    sa.Column('id', ID, nullable=False),
    sa.Column('connector', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('ticket_id', ID, nullable=True),
    sa.Column('priority', sa.String(length=32), nullable=False),
    sa.Column('requests', sa.JSON(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('lease_holder', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', UTCDateTime(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('delivered_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_due', 'connector_outbox', ['state', 'next_attempt_at'],
                    unique=False)
    op.create_index('ix_outbox_target', 'connector_outbox', ['connector', 'target', 'id'],
                    unique=False)
    op.create_table('connector_deliveries',
    sa.Column('connector', sa.String(length=32), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('connector', 'delivery_id')
    )


def downgrade() -> None:
    op.drop_table('connector_deliveries')
    op.drop_index('ix_outbox_target', table_name='connector_outbox')
    op.drop_index('ix_outbox_due', table_name='connector_outbox')
    op.drop_table('connector_outbox')
