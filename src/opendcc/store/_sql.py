"""Small helpers shared by the repositories: dialect-aware upserts and UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT on this connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"store supports SQLite and PostgreSQL, not {conn.dialect.name}")


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the store stores is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def require_utc(value: datetime) -> datetime:
    """Refuse naive datetimes at the store boundary, normalising aware ones to UTC."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store keeps UTC, pass an aware datetime")
    return value.astimezone(UTC)
