"""activities carry their detail and their HubSpot engagement link

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import syncd.store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))

    op.create_table('activity_engagements',
    sa.Column('activity_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hubspot_object', sa.String(length=20), nullable=False),
    sa.Column('hubspot_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', syncd.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_engagements_activity_id_activities')),
    sa.PrimaryKeyConstraint('activity_id', name=op.f('pk_activity_engagements'))
    )
    with op.batch_alter_table('activity_engagements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_engagements_hubspot_id'), ['hubspot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('activity_engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_engagements_hubspot_id'))

    op.drop_table('activity_engagements')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('detail')
