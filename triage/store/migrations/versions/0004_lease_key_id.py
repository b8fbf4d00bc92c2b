"""claims held by key id

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A claim is held by the API key that made it (`lease_key_id`); `lease_holder` keeps the
key's name for display. Before, the name alone identified the holder, so a second key with
the same name could act on the claim.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tickets', sa.Column('lease_key_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    # a plain ALTER TABLE DROP COLUMN (SQLite >= 3.35), never a batch re-creation of
    # `tickets`: with foreign keys on, dropping the old table would cascade to every message
    op.drop_column('tickets', 'lease_key_id')
