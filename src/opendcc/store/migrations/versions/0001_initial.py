"""The initial DCC Data Service schema: users, counters, outbox, audit, inventory, registration.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(23), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
    )
    op.create_table(
        "request_counters",
        sa.Column("originator", sa.String(23), nullable=False),
        sa.Column("last_counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("originator", name="pk_request_counters"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(23), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("request_id", "sequence", name="uq_outbox_request_id_sequence"),
    )
    op.create_index(
        "ix_outbox_delivered_at_next_attempt_at", "outbox", ["delivered_at", "next_attempt_at"]
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("originator", sa.String(23), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("service_reference_variant", sa.String(20), nullable=True),
        sa.Column("endpoint", sa.String(20), nullable=True),
        sa.Column("response_code", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_originator", "audit", ["originator"])
    op.create_index("ix_audit_request_id", "audit", ["request_id"])
    op.create_table(
        "inventory",
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("device_type", sa.String(10), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("manufacturer", sa.String(30), nullable=False),
        sa.Column("model", sa.String(30), nullable=False),
        sa.Column("firmware", sa.String(8), nullable=True),
        sa.Column("chf_id", sa.String(23), nullable=True),
        sa.Column("mpxn", sa.String(13), nullable=True),
        sa.Column("secondary_import_mpan", sa.String(13), nullable=True),
        sa.Column("export_mpan", sa.String(13), nullable=True),
        sa.Column("smets", sa.String(10), nullable=False),
        sa.Column("csp_region", sa.String(20), nullable=True),
        sa.Column("uprn", sa.String(12), nullable=True),
        sa.Column("postcode", sa.String(8), nullable=True),
        sa.Column("address_identifier", sa.String(30), nullable=True),
        sa.Column("date_commissioned", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name="pk_inventory"),
    )
    op.create_index("ix_inventory_mpxn", "inventory", ["mpxn"])
    op.create_index("ix_inventory_chf_id", "inventory", ["chf_id"])
    op.create_index("ix_inventory_uprn", "inventory", ["uprn"])
    op.create_table(
        "registration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mpxn", sa.String(13), nullable=False),
        sa.Column("supplier_id", sa.String(23), nullable=False),
        sa.Column("network_operator_id", sa.String(23), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registration"),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["users.user_id"], name="fk_registration_supplier_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["network_operator_id"],
            ["users.user_id"],
            name="fk_registration_network_operator_id_users",
        ),
        sa.UniqueConstraint("mpxn", "effective_from", name="uq_registration_mpxn_effective_from"),
    )


def downgrade() -> None:
    for table in ("registration", "inventory", "audit", "outbox", "request_counters", "users"):
        op.drop_table(table)
