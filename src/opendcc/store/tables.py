"""The DCC Data Service tables: one `MetaData`, the single source of the schema.

Alembic migrations (`store/migrations/versions`) create exactly these tables; a test checks
that the migrated schema and this module agree.

RequestID counters are 64-bit unsigned (DUIS 5.4 §3.4) but SQL BIGINT is signed, so counters
are stored shifted by 2**63 (`counter_to_sql`): the order is kept, every value fits.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Stable constraint names so migrations and the model agree on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_COUNTER_SHIFT = 2**63


def counter_to_sql(counter: int) -> int:
    """Map an unsigned 64-bit RequestID counter onto a signed BIGINT, preserving order."""
    return counter - _COUNTER_SHIFT


def counter_from_sql(value: int) -> int:
    """Inverse of `counter_to_sql`."""
    return value + _COUNTER_SHIFT


# A DUIS user (SEC party user ID): EUI-64, the user roles it holds, its Receive Response
# Service address (where async responses are POSTed).
users = Table(
    "users",
    metadata,
    Column("user_id", String(23), primary_key=True),  # EUI-64, hyphenated
    Column("name", String(100), nullable=False),
    Column("roles", String(100), nullable=False),  # space-separated DUIS user roles: "IS GS"
    Column("response_url", Text, nullable=True),
)

# The highest RequestID counter accepted from each originator (replay protection).
request_counters = Table(
    "request_counters",
    metadata,
    Column("originator", String(23), primary_key=True),
    Column("last_counter", BigInteger, nullable=False),  # shifted, see counter_to_sql
)

# Durable outbox of signed async responses awaiting delivery to a user's endpoint.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(100), nullable=False),
    Column("sequence", Integer, nullable=False),  # 0, 1, ... for several responses to one request
    Column("user_id", String(23), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("request_id", "sequence"),
    Index(None, "delivered_at", "next_attempt_at"),
)

# Every request and its outcome, accepted or rejected.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("originator", String(23), nullable=True),
    Column("request_id", String(100), nullable=True),
    Column("service_reference_variant", String(20), nullable=True),
    Column("endpoint", String(20), nullable=True),
    Column("response_code", String(10), nullable=False),
    Column("detail", Text, nullable=True),
    Index(None, "originator"),
    Index(None, "request_id"),
)

# The Smart Metering Inventory: one row per device (DUIS 5.4 DSPInventory/Device).
inventory = Table(
    "inventory",
    metadata,
    Column("device_id", String(23), primary_key=True),
    Column("device_type", String(10), nullable=False),  # ESME GSME GPF CHF HCALCS PPMID IHD CAD
    Column("status", String(30), nullable=False),  # DUIS DeviceStatus
    Column("manufacturer", String(30), nullable=False),
    Column("model", String(30), nullable=False),
    Column("firmware", String(8), nullable=True),
    Column("chf_id", String(23), nullable=True),  # the comms hub the device is joined through
    Column("mpxn", String(13), nullable=True),  # ImportMPxN of an ESME or GSME
    Column("secondary_import_mpan", String(13), nullable=True),  # twin-element ESME
    Column("export_mpan", String(13), nullable=True),
    Column("smets", String(10), nullable=False, default="SMETS2"),  # SMETS1 | SMETS2
    Column("s1sp", String(30), nullable=True),  # SMETS1: the service provider serving it
    Column("csp_region", String(20), nullable=True),  # DUIS CSPRegion
    Column("uprn", String(12), nullable=True),
    Column("postcode", String(8), nullable=True),
    Column("address_identifier", String(30), nullable=True),
    Column("date_commissioned", DateTime(timezone=True), nullable=True),
    Index(None, "mpxn"),
    Index(None, "chf_id"),
    Index(None, "uprn"),
)

# Registration data: who is the supplier and network operator of a meter point, from when.
registration = Table(
    "registration",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mpxn", String(13), nullable=False),
    Column("supplier_id", String(23), ForeignKey("users.user_id"), nullable=False),
    Column("network_operator_id", String(23), ForeignKey("users.user_id"), nullable=False),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    UniqueConstraint("mpxn", "effective_from"),
)

# Change of supplier (CS02b via the Transitional CoS party): one durable state machine per
# meter point and registration change; each step is committed on its own (core.change_of_supplier).
cos_switch = Table(
    "cos_switch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mpxn", String(13), nullable=False),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("old_supplier", String(23), nullable=False),
    Column("new_supplier", String(23), nullable=False),
    Column("step", String(20), nullable=False),  # detected | credentials | completed
    Column("devices_done", Text, nullable=False, default=""),  # space-separated device IDs
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("mpxn", "effective_from"),
    Index(None, "step"),
)

# DCC-scheduled Service Requests (DUIS 5.4 §3.2, SRV 5.1 Create / 5.2 Read / 5.3 Delete
# Schedule): what the DCC sends, for whom, when; `last_run_at` is the run last claimed, so a
# run is sent at most once across restarts and processes (core.dcc_schedules).
dcc_schedules = Table(
    "dcc_schedules",
    metadata,
    Column("schedule_id", Integer, primary_key=True, autoincrement=True),  # DSPScheduleID
    Column("owner", String(23), nullable=False),  # the user who created it (EUI-64)
    Column("device_id", String(23), nullable=False),  # the target device (EUI-64)
    Column("device_type", String(10), nullable=False),  # as the inventory had it at 5.1
    Column("service_reference", String(10), nullable=False),  # the scheduled SRV: 4.8
    Column("service_reference_variant", String(20), nullable=False),  # 4.8.1
    Column("frequency", String(20), nullable=False),  # DUIS ScheduleFrequency: Daily ...
    Column("start_at", DateTime(timezone=True), nullable=False),  # start date and time
    Column("first_run_at", DateTime(timezone=True), nullable=False),  # first run after 5.1
    Column("end_at", DateTime(timezone=True), nullable=True),  # exclusive; None: no end
    Column("dsp_body", Text, nullable=False),  # the DSP form of the SRV's body (XML)
    Column("details", Text, nullable=False),  # the CreateSchedule as asked (XML; 5.2)
    Column("last_run_at", DateTime(timezone=True), nullable=True),  # the last run claimed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "owner", "device_id"),
    sqlite_autoincrement=True,  # a deleted schedule's ID is never given to a new one
)
