"""A PostgreSQL client's cancel key on the query it runs: a CancelRequest that a load balancer
sends to another node than the session's finds the query there, and that node asks the
session's node to stop it. Only a hash of the key is kept.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("cancel_key", sa.String(64), nullable=True))
    op.create_index("ix_queries_cancel_key", "queries", ["cancel_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_queries_cancel_key", table_name="queries")
    with op.batch_alter_table("queries") as batch:
        batch.drop_column("cancel_key")
