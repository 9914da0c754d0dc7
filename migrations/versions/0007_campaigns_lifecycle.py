"""campaign members are found by their Salesforce id; lifecycle events are unique per source

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_members_external_id'), ['external_id'], unique=False)
    with op.batch_alter_table('lifecycle_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_lifecycle_events_person_id_stage_entered_at', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_lifecycle_events_person_id_stage_source_system_entered_at'),
            ['person_id', 'stage', 'source_system', 'entered_at'],
        )


def downgrade() -> None:
    # Events two systems state at the same instant collapse to one (the lowest id stays).
    op.execute(
        "DELETE FROM lifecycle_events WHERE id NOT IN ("
        "SELECT MIN(id) FROM lifecycle_events GROUP BY person_id, stage, entered_at)"
    )
    with op.batch_alter_table('lifecycle_events', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_lifecycle_events_person_id_stage_source_system_entered_at'), type_='unique'
        )
        batch_op.create_unique_constraint(
            'uq_lifecycle_events_person_id_stage_entered_at', ['person_id', 'stage', 'entered_at']
        )
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_members_external_id'))
