"""deal contacts remember where each pair exists: the contact role's id and the HubSpot association

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deal_contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('salesforce_id', sa.String(length=18), nullable=True))
        batch_op.add_column(
            sa.Column('in_hubspot', sa.Boolean(), nullable=False, server_default=sa.text('false'))
        )


def downgrade() -> None:
    with op.batch_alter_table('deal_contacts', schema=None) as batch_op:
        batch_op.drop_column('in_hubspot')
        batch_op.drop_column('salesforce_id')
