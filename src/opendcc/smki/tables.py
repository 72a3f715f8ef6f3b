"""The SMKI repository's tables, on their own `MetaData` (created on first use)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

# Every certificate the repository publishes: opendcc-issued and imported from the reference.
certificates = Table(
    "smki_certificates", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("serial_hex", String(40), nullable=False, index=True),
    Column("issuer", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("entity", String(16), index=True),
    Column("role", Integer),
    Column("usage", String(2)),
    Column("common_name", String(255)),
    Column("not_before", DateTime, nullable=False),
    Column("not_after", DateTime, nullable=False),
    Column("der", LargeBinary, nullable=False),
    # PKCS#8 PEM, only for parties opendcc plays (simulated users, DCC roles, test keys).
    Column("private_key", LargeBinary),
    Column("name", String(255)),
    Column("source", String(16), nullable=False),
    # Set when a renewal replaced this certificate: SMKI status "N" (not in use).
    Column("superseded_by", String(40)),
    UniqueConstraint("issuer", "serial_hex", name="uq_smki_certificates_issuer_serial"),
)

# The certificate revocation list.
revocations = Table(
    "smki_revocations", metadata,
    Column("issuer", String(255), primary_key=True),
    Column("serial_hex", String(40), primary_key=True),
    Column("revoked_at", DateTime, nullable=False),
    Column("reason", String(255), nullable=False),
)

# Small named values: the revocation change counter, the PKI seed.
state = Table(
    "smki_state", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)
