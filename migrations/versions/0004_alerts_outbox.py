"""alerts outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('occurrence_key', sa.String(length=200), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('occurred_at', syncd.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', syncd.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('task_state', sa.String(length=20), nullable=True),
    sa.Column('task_id', sa.String(length=18), nullable=True),
    sa.Column('task_attempts', sa.Integer(), nullable=False),
    sa.Column('webhook_state', sa.String(length=20), nullable=True),
    sa.Column('webhook_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', syncd.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_alerts_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('occurrence_key', name=op.f('uq_alerts_occurrence_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_person_id_created_at'), ['person_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_task_state'), ['task_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_webhook_state'), ['webhook_state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_webhook_state'))
        batch_op.drop_index(batch_op.f('ix_alerts_task_state'))
        batch_op.drop_index(batch_op.f('ix_alerts_person_id_created_at'))

    op.drop_table('alerts')
