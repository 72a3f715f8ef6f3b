"""Change of supplier: the durable per-meter-point CoS state machine (table cos_switch).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cos_switch",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("mpxn", sa.String(13), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_supplier", sa.String(23), nullable=False),
        sa.Column("new_supplier", sa.String(23), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("devices_done", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cos_switch"),
        sa.UniqueConstraint("mpxn", "effective_from", name="uq_cos_switch_mpxn_effective_from"),
    )
    op.create_index("ix_cos_switch_step", "cos_switch", ["step"])


def downgrade() -> None:
    op.drop_index("ix_cos_switch_step", "cos_switch")
    op.drop_table("cos_switch")
