"""The audit log: every DUIS request and its outcome, accepted or rejected, in arrival order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from opendcc.store._sql import Prepared, as_utc, require_utc
from opendcc.store.tables import audit

_t = audit
# Built once: each append only binds its values (no statement construction per request).
_APPEND = Prepared(insert(_t), column_keys=[
    "at", "response_code", "originator", "request_id", "service_reference_variant", "endpoint",
    "detail"])


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One request and what the DCC answered."""

    at: datetime
    response_code: str  # DUIS response code, or "HTTP <status>" where DUIS gives none
    originator: str | None = None
    request_id: str | None = None
    service_reference_variant: str | None = None
    endpoint: str | None = None
    detail: str | None = None


def append(conn: Connection, record: AuditRecord) -> None:
    """Add one record."""
    _APPEND.execute(conn, {
        "at": require_utc(record.at),
        "response_code": record.response_code,
        "originator": record.originator,
        "request_id": record.request_id,
        "service_reference_variant": record.service_reference_variant,
        "endpoint": record.endpoint,
        "detail": None if record.detail is None else record.detail[:4000],
    })


def recent(
    conn: Connection, *, limit: int = 100, originator: str | None = None,
    request_id: str | None = None,
) -> list[AuditRecord]:
    """The newest records first, optionally for one originator or one RequestID."""
    query = select(_t).order_by(_t.c.id.desc()).limit(limit)
    if originator is not None:
        query = query.where(_t.c.originator == originator)
    if request_id is not None:
        query = query.where(_t.c.request_id == request_id)
    return [
        AuditRecord(
            at=as_utc(r["at"]),  # type: ignore[arg-type]
            response_code=r["response_code"],
            originator=r["originator"],
            request_id=r["request_id"],
            service_reference_variant=r["service_reference_variant"],
            endpoint=r["endpoint"],
            detail=r["detail"],
        )
        for r in conn.execute(query).mappings()
    ]
