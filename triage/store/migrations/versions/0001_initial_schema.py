"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The tables of `triage/store/tables.py` as first released.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.store.tables import ID, UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_table('case_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('customers',
    sa.Column('id', ID, nullable=False),
    sa.Column('customer_id', sa.String(length=200), nullable=False),
    sa.Column('customer_since', sa.Date(), nullable=True),
    sa.Column('tier', sa.String(length=64), nullable=True),
    sa.Column('plan', sa.String(length=64), nullable=True),
    sa.Column('lifetime_value', sa.Float(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id')
    )
    op.create_table('tickets',
    sa.Column('id', ID, nullable=False),
    sa.Column('case_number', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('lane', sa.String(length=24), nullable=False),
    sa.Column('customer_pk', ID, nullable=True),
    sa.Column('frustration', sa.Float(), nullable=True),
    sa.Column('churn_risk', sa.Float(), nullable=True),
    sa.Column('urgency', sa.Float(), nullable=True),
    sa.Column('scorable', sa.Boolean(), nullable=False),
    sa.Column('unscorable_reason', sa.String(length=64), nullable=True),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('trend', sa.String(length=16), nullable=True),
    sa.Column('phrases', sa.JSON(), nullable=True),
    sa.Column('repeat_contacts', sa.Integer(), nullable=False),
    sa.Column('escalated_by_agent', sa.Boolean(), nullable=False),
    sa.Column('escalation_reason', sa.Text(), nullable=True),
    sa.Column('policy_version', sa.String(length=32), nullable=False),
    sa.Column('boost_minutes', sa.Float(), nullable=False),
    sa.Column('queue_key', sa.Float(), nullable=False),
    sa.Column('waiting_since', UTCDateTime(), nullable=False),
    sa.Column('sla_due_at', UTCDateTime(), nullable=True),
    sa.Column('review_at', UTCDateTime(), nullable=True),
    sa.Column('lease_holder', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_pk'], ['customers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_number'),
    sa.UniqueConstraint('source', 'external_id', name='uq_tickets_source_external_id')
    )
    op.create_index('ix_tickets_customer_created', 'tickets', ['customer_pk', 'created_at'],
                    unique=False)
    op.create_index('ix_tickets_lease', 'tickets', ['status', 'lease_expires_at'], unique=False)
    op.create_index('ix_tickets_queue', 'tickets', ['status', 'lane', 'queue_key'], unique=False)
    op.create_index('ix_tickets_review', 'tickets', ['review_at'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_action', 'audit_log', ['action'], unique=False)
    op.create_index('ix_audit_ticket', 'audit_log', ['ticket_id', 'id'], unique=False)
    op.create_table('messages',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('frustration', sa.Float(), nullable=True),
    sa.Column('churn_risk', sa.Float(), nullable=True),
    sa.Column('urgency', sa.Float(), nullable=True),
    sa.Column('scorable', sa.Boolean(), nullable=True),
    sa.Column('unscorable_reason', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('phrases', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_messages_ticket', 'messages', ['ticket_id', 'id'], unique=False)
    op.create_table('feedback',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('message_id', ID, nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('frustration', sa.Integer(), nullable=True),
    sa.Column('churn_risk', sa.Integer(), nullable=True),
    sa.Column('urgency', sa.Integer(), nullable=True),
    sa.Column('csat', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_feedback_ticket', 'feedback', ['ticket_id'], unique=False)
    op.create_table('score_history',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('message_id', ID, nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('frustration', sa.Float(), nullable=True),
    sa.Column('churn_risk', sa.Float(), nullable=True),
    sa.Column('urgency', sa.Float(), nullable=True),
    sa.Column('trend', sa.String(length=16), nullable=True),
    sa.Column('lane', sa.String(length=24), nullable=False),
    sa.Column('boost_minutes', sa.Float(), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('policy_version', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_score_history_ticket', 'score_history', ['ticket_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_score_history_ticket', table_name='score_history')
    op.drop_table('score_history')
    op.drop_index('ix_feedback_ticket', table_name='feedback')
    op.drop_table('feedback')
    op.drop_index('ix_messages_ticket', table_name='messages')
    op.drop_table('messages')
    op.drop_index('ix_audit_ticket', table_name='audit_log')
    op.drop_index('ix_audit_action', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_tickets_review', table_name='tickets')
    op.drop_index('ix_tickets_queue', table_name='tickets')
    op.drop_index('ix_tickets_lease', table_name='tickets')
    op.drop_index('ix_tickets_customer_created', table_name='tickets')
    op.drop_table('tickets')
    op.drop_table('customers')
    op.drop_table('case_counters')
    op.drop_table('api_keys')
