"""files.delivered_as, for the duplicate policies; archived_files, for replaced, expired and dropped files

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("delivered_as", sa.Text(), nullable=True))
    op.execute("UPDATE files SET delivered_as = key")
    with op.batch_alter_table("files") as batch:
        batch.alter_column("delivered_as", existing_type=sa.Text(), nullable=False)
        batch.create_index("ix_files_delivered_as", ["delivered_as"], unique=False)
    op.create_table(
        "archived_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lake_key", sa.Text(), nullable=False),
        sa.Column("archive_key", sa.Text(), nullable=False),
        sa.Column("database", sa.String(length=255), nullable=False),
        sa.Column("table", sa.String(length=255), nullable=False),
        sa.Column("partition_path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("archived_at", sa.Float(), nullable=False),
        sa.Column("purged_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("archive_key"),
    )
    op.create_index("ix_archived_files_state", "archived_files", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_archived_files_state", table_name="archived_files")
    op.drop_table("archived_files")
    with op.batch_alter_table("files") as batch:
        batch.drop_index("ix_files_delivered_as")
        batch.drop_column("delivered_as")
