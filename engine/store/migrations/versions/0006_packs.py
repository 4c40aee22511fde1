"""packs: installed packs and upgrade conflicts

Revision ID: 0006_packs
Revises: 0001_foundation
Create Date: 2026-11-22 05:22:15.448947
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_packs'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('packs',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('manifest_text', sa.Text(), nullable=False),
    sa.Column('base', sa.JSON(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('installed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('upgraded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('installed_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_packs'))
    )
    op.create_table('pack_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pack', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('base', sa.JSON(), nullable=True),
    sa.Column('mine', sa.JSON(), nullable=True),
    sa.Column('theirs', sa.JSON(), nullable=True),
    sa.Column('from_version', sa.String(length=32), nullable=False),
    sa.Column('to_version', sa.String(length=32), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pack'], ['packs.key'], name=op.f('fk_pack_conflicts_pack_packs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_conflicts'))
    )
    with op.batch_alter_table('pack_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_conflicts_pack'), ['pack'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pack_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_conflicts_pack'))

    op.drop_table('pack_conflicts')
    op.drop_table('packs')
