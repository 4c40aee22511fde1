"""rules: sensor readings, firings, dedupe marks

Revision ID: 0004_rules
Revises: 0001_foundation
Create Date: 2026-11-22 05:22:45.516761
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0004_rules'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rule_dedupe',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('rule', sa.String(length=128), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rule_dedupe'))
    )
    with op.batch_alter_table('rule_dedupe', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_dedupe_rule'), ['rule'], unique=False)

    op.create_table('rule_firings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule', sa.String(length=128), nullable=False),
    sa.Column('ruleset', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('fired', sa.Boolean(), nullable=False),
    sa.Column('event', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_firings'))
    )
    with op.batch_alter_table('rule_firings', schema=None) as batch_op:
        batch_op.create_index('ix_rule_firings_record', ['record_id', 'rule'], unique=False)
        batch_op.create_index('ix_rule_firings_rule_at', ['rule', 'at'], unique=False)

    op.create_table('sensor_readings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('metric', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensor_readings'))
    )
    with op.batch_alter_table('sensor_readings', schema=None) as batch_op:
        batch_op.create_index('ix_readings_at', ['at'], unique=False)
        batch_op.create_index('ix_readings_metric_source_at', ['metric', 'source', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sensor_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_readings_metric_source_at')
        batch_op.drop_index('ix_readings_at')

    op.drop_table('sensor_readings')
    with op.batch_alter_table('rule_firings', schema=None) as batch_op:
        batch_op.drop_index('ix_rule_firings_rule_at')
        batch_op.drop_index('ix_rule_firings_record')

    op.drop_table('rule_firings')
    with op.batch_alter_table('rule_dedupe', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_dedupe_rule'))

    op.drop_table('rule_dedupe')
