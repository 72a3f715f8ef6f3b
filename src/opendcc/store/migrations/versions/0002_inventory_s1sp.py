"""Inventory: the SMETS1 service provider serving a device (DUIS 5.4 sr:Device/S1SP).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inventory", sa.Column("s1sp", sa.String(30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inventory") as batch:
        batch.drop_column("s1sp")
