"""files.row_hash: the sum of a file's row hashes, taken in the read that cataloged it, so that
its Parquet copy is verified without reading the delivered file a second time. Files cataloged
before have none: their copies are verified against a fresh read, as before.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("row_hash", sa.String(48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("row_hash")
