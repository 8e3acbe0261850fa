"""objects indexed by target key: each lake file's delivery is found without reading the ledger

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_objects_target", "objects", ["target_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_objects_target", table_name="objects")
