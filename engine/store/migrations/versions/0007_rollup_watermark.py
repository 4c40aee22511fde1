"""reports: the audit number a rollup was built at (its watermark for record events)

Revision ID: 0007_rollup_watermark
Revises: 0005_reports
Create Date: 2026-11-22 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_rollup_watermark'
down_revision: str | Sequence[str] | None = '0005_reports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('report_rollups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('built_seq', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report_rollups', schema=None) as batch_op:
        batch_op.drop_column('built_seq')
