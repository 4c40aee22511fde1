"""flows: instances and tasks

Revision ID: 0002_flows
Revises: 0001_foundation
Create Date: 2026-11-22 05:18:03.760791
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0002_flows'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = ('flows',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('flow_instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow_key', sa.String(length=128), nullable=False),
    sa.Column('flow_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('form', sa.String(length=128), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('initiator_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_flow_instances_record_id_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_instances'))
    )
    with op.batch_alter_table('flow_instances', schema=None) as batch_op:
        batch_op.create_index('ix_flow_instances_flow', ['flow_key', 'flow_version', 'status'], unique=False)
        batch_op.create_index('ix_flow_instances_initiator', ['initiator_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_instances_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_instances_record_id'), ['record_id'], unique=False)

    op.create_table('flow_tasks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('flow_key', sa.String(length=128), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instances.id'], name=op.f('fk_flow_tasks_instance_id_flow_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_tasks'))
    )
    with op.batch_alter_table('flow_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_flow_tasks_actor', ['actor_id', 'completed_at'], unique=False)
        batch_op.create_index('ix_flow_tasks_inbox', ['assignee_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_tasks_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flow_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_tasks_instance_id'))
        batch_op.drop_index('ix_flow_tasks_inbox')
        batch_op.drop_index('ix_flow_tasks_actor')

    op.drop_table('flow_tasks')
    with op.batch_alter_table('flow_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_instances_record_id'))
        batch_op.drop_index(batch_op.f('ix_flow_instances_parent_id'))
        batch_op.drop_index('ix_flow_instances_initiator')
        batch_op.drop_index('ix_flow_instances_flow')

    op.drop_table('flow_instances')
