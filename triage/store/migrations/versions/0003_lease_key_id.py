"""claims held by key id

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01

A claim is held by the API key that made it (`lease_key_id`); `lease_holder` keeps the
key's name for display. Before, the name alone identified the holder, so a second key with
the same name could act on the claim.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('lease_key_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('lease_key_id')
