"""tables.generation: a counter of every change to what a query reads from a table; which
generation changed each file last, and removed files last (catalog/cache.py); whether a query
was answered by a kept result (query/result_cache.py)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tables") as batch:
        batch.add_column(sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("removed_in", sa.BigInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("changed_in", sa.BigInteger, nullable=False, server_default="0"))
    op.create_index("ix_files_table_changed", "files", ["table_id", "changed_in"], unique=False)
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("reused", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("queries") as batch:
        batch.drop_column("reused")
    op.drop_index("ix_files_table_changed", table_name="files")
    with op.batch_alter_table("files") as batch:
        batch.drop_column("changed_in")
    with op.batch_alter_table("tables") as batch:
        batch.drop_column("removed_in")
        batch.drop_column("generation")
