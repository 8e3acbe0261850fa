"""AWS access keys and Athena's front end.

AWS access keys: a token record of kind ``aws`` is an access key id whose secret is derived
from the nodes' signing secret (``auth/aws_keys.py``); ``token`` records are API tokens.
Queries started through Athena's API keep the client's ClientRequestToken (unique per
principal: a repeat finds the same query) and what GetQueryExecution reports of them. Named
queries and prepared statements are each principal's own within a workgroup.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="token"))
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("request_token", sa.String(128), nullable=True))
        batch.add_column(sa.Column("athena", sa.JSON, nullable=True))
    op.create_index("ix_queries_request_token", "queries", ["principal", "request_token"], unique=True)
    op.create_table(
        "named_queries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("workgroup", sa.String(255), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("database", sa.String(255), nullable=False),
        sa.Column("sql", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_named_queries_principal", "named_queries", ["principal", "workgroup"])
    op.create_table(
        "prepared_statements",
        sa.Column("principal", sa.String(255), primary_key=True),
        sa.Column("workgroup", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("sql", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("prepared_statements")
    op.drop_index("ix_named_queries_principal", "named_queries")
    op.drop_table("named_queries")
    op.drop_index("ix_queries_request_token", "queries")
    with op.batch_alter_table("queries") as batch:
        batch.drop_column("athena")
        batch.drop_column("request_token")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("kind")
