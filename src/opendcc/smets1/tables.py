"""SMETS1 enrolment and adoption tables, on their own `MetaData` in the store's database.

Kept apart from `opendcc.store.tables` so the store's migrations never see them; created with
`create_tables(engine)` (idempotent). Device ids are 16 upper-case hex digits.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

devices = Table(
    "smets1_devices", metadata,
    Column("device_id", String(16), primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("model", String(32), nullable=False),
    Column("firmware", String(32), nullable=False),
    Column("fuel", String(1), nullable=False),
    Column("mpxn", String(13), nullable=False),
    Column("authorised_by", String(16), nullable=False),  # supplier that authorised migration
    Column("previous_owner", String(16), nullable=False),  # credential holder before adoption
    Column("dormant", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("cohort_id", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_smets1_devices_state", "state"),
    Index("ix_smets1_devices_cohort", "cohort_id", "state"),
)

authorisations = Table(
    "smets1_authorisations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("supplier", String(16), nullable=False),
    Column("device_id", String(16), nullable=False),
    Column("mpxn", String(13), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("reason", Text),
)

cohorts = Table(
    "smets1_cohorts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    Column("model", String(32), nullable=False),
    Column("firmware", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("approver_1", String(64)),
    Column("approver_2", String(64)),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)

transitions = Table(
    "smets1_transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(16), nullable=False),
    Column("cohort_id", Integer),
    Column("from_state", String(16), nullable=False),
    Column("to_state", String(16), nullable=False),
    Column("reason", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Create the SMETS1 tables if they are missing."""
    metadata.create_all(engine)
