"""DCC-scheduled Service Requests (SRV 5.1 / 5.2 / 5.3) kept across restarts (table dcc_schedules).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dcc_schedules",
        sa.Column("schedule_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(23), nullable=False),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("device_type", sa.String(10), nullable=False),
        sa.Column("service_reference", sa.String(10), nullable=False),
        sa.Column("service_reference_variant", sa.String(20), nullable=False),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dsp_body", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", name="pk_dcc_schedules"),
        sqlite_autoincrement=True,  # a deleted schedule's ID is never given to a new one
    )
    op.create_index("ix_dcc_schedules_owner_device_id", "dcc_schedules", ["owner", "device_id"])


def downgrade() -> None:
    op.drop_index("ix_dcc_schedules_owner_device_id", "dcc_schedules")
    op.drop_table("dcc_schedules")
