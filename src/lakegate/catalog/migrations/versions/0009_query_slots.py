"""Workgroup turns shared by every node: a query running (or waiting for its turn) holds a slot
row with a lease its node renews; a node that dies stops renewing, and its slots lapse.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "query_slots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workgroup", sa.String(255), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("waiting", sa.Boolean, nullable=False),
        sa.Column("since", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float, nullable=False),
    )
    op.create_index("ix_query_slots_workgroup", "query_slots", ["workgroup", "since"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_query_slots_workgroup", table_name="query_slots")
    op.drop_table("query_slots")
