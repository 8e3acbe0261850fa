"""The engine a workgroup's queries run on: duckdb (the default), spark, or auto (Spark above
a size of files read).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workgroups") as batch:
        batch.add_column(sa.Column("engine", sa.String(16), nullable=False, server_default="duckdb"))


def downgrade() -> None:
    with op.batch_alter_table("workgroups") as batch:
        batch.drop_column("engine")
