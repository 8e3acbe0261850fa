"""Engines: the one a workgroup's queries run on — duckdb (the default), spark, or auto (Spark
above a size of files read) — and the one each query ran on, in the history.

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
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("engine", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queries") as batch:
        batch.drop_column("engine")
    with op.batch_alter_table("workgroups") as batch:
        batch.drop_column("engine")
