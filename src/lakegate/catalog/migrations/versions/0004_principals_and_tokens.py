"""principals and tokens: who may use lakegate, and their API tokens as SCRAM verifiers;
descriptions of tables and columns; grants; the query history; workgroups

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# long: a migration makes its tables one after another; split, the schema it makes would not read as one
def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("workgroup", sa.String(length=255), nullable=True),
        sa.Column("landing_prefix", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("iterations", sa.Integer(), nullable=False),
        sa.Column("declared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("disabled_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("stored_key", sa.String(length=64), nullable=False),
        sa.Column("server_key", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["principal_id"], ["principals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tokens_principal", "tokens", ["principal_id"], unique=False)
    op.create_table(
        "descriptions",
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=255), nullable=False),
        sa.Column("set_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["table_id"], ["tables.id"]),
        sa.PrimaryKeyConstraint("table_id", "column"),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grantee_kind", sa.String(length=16), nullable=False),
        sa.Column("grantee", sa.String(length=255), nullable=False),
        sa.Column("database", sa.String(length=255), nullable=False),
        sa.Column("table", sa.String(length=255), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=True),
        sa.Column("exclude", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("row_filter", sa.Text(), nullable=True),
        sa.Column("granted_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_grants_grantee", "grants", ["grantee_kind", "grantee"], unique=False)
    op.create_table(
        "queries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("principal", sa.String(length=255), nullable=False),
        sa.Column("workgroup", sa.String(length=255), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tables", sa.JSON(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("bytes_scanned", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_queries_principal", "queries", ["principal", "submitted_at"], unique=False)
    op.create_index("ix_queries_workgroup", "queries", ["workgroup", "submitted_at"], unique=False)
    op.create_table(
        "workgroups",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("max_bytes_scanned", sa.BigInteger(), nullable=True),
        sa.Column("max_rows", sa.BigInteger(), nullable=True),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("max_queued", sa.Integer(), nullable=False),
        sa.Column("memory_limit", sa.String(length=32), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("workgroups")
    op.drop_index("ix_queries_workgroup", table_name="queries")
    op.drop_index("ix_queries_principal", table_name="queries")
    op.drop_table("queries")
    op.drop_index("ix_grants_grantee", table_name="grants")
    op.drop_table("grants")
    op.drop_table("descriptions")
    op.drop_index("ix_tokens_principal", table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("principals")
