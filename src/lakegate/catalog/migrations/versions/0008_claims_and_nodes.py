"""Many nodes on one catalog: a ledger row is claimed by a node with a lease (claim_epoch fences
every transition on the claim it was read under), at most one active row per landing key; the
node registry; queries know the node that runs them, whether a cancel was asked, their slot's
lease (workgroup admission across nodes) and where their result is kept.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.add_column(sa.Column("claim_epoch", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_until", sa.Float, nullable=True))
    # Two nodes could record one key twice before claims existed: the older row is kept active.
    op.execute(
        "UPDATE objects SET active = false WHERE active AND id NOT IN "
        "(SELECT min(id) FROM objects WHERE active GROUP BY source_key)"
    )
    op.create_index(
        "ux_objects_one_active", "objects", ["source_key"], unique=True,
        postgresql_where=sa.text("active"), sqlite_where=sa.text("active"),
    )  # fmt: skip
    op.create_table(
        "nodes",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("roles", sa.String(32), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("home", sa.Text, nullable=False),
        sa.Column("storage", sa.String(16), nullable=False),
        sa.Column("http_url", sa.Text, nullable=True),
        sa.Column("pg_url", sa.Text, nullable=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
        sa.Column("stopped_at", sa.Float, nullable=True),
    )
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("node", sa.String(255), nullable=True))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("lease_until", sa.Float, nullable=True))
        batch.add_column(sa.Column("result_key", sa.Text, nullable=True))
    op.create_index("ix_queries_state", "queries", ["state", "workgroup"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_queries_state", table_name="queries")
    with op.batch_alter_table("queries") as batch:
        for name in ("result_key", "lease_until", "cancel_requested", "node"):
            batch.drop_column(name)
    op.drop_table("nodes")
    op.drop_index("ux_objects_one_active", table_name="objects")
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claim_epoch")
