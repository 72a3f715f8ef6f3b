"""Certificate revocation: the shared revocation list every process checks, and the X.509 CRL
the repository publishes.

SEC Appendix A/B: a revoked certificate must not be relied on from the moment it is revoked. A
revocation is written to the shared store together with a change counter; each process keeps
the set of revoked (issuer, serial) pairs in memory and reloads it only when the counter moved,
so the check on every request costs one single-row read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from opendcc.smki import tables
from opendcc.smki.authority import CertificateAuthority

REVOCATION_VERSION = "revocation_version"


@dataclass(frozen=True)
class Revocation:
    """One entry of the revocation list."""

    issuer: str
    serial: int
    revoked_at: datetime
    reason: str

    @property
    def serial_hex(self) -> str:
        """Upper-case hex serial."""
        return format(self.serial, "X")


def bump_version(conn: Connection) -> int:
    """Advance the revocation change counter inside the caller's transaction."""
    row = conn.execute(select(tables.state.c.value)
                       .where(tables.state.c.key == REVOCATION_VERSION)).first()
    version = int(row[0]) + 1 if row else 1
    if row:
        conn.execute(update(tables.state).where(tables.state.c.key == REVOCATION_VERSION)
                     .values(value=str(version)))
    else:
        conn.execute(insert(tables.state).values(key=REVOCATION_VERSION, value=str(version)))
    return version


class RevocationList:
    """The revoked set as this process last read it, refreshed when the shared counter moves."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._version: str | None = None
        self._revoked: frozenset[tuple[str, str]] = frozenset()
        self._raw: Any = None  # a driver connection kept for the counter read

    def _current_version(self) -> str:
        # The counter is read on every check, so it bypasses the pool and statement compiling:
        # one prepared single-row SELECT on a connection kept open, in autocommit so each read
        # sees the latest committed revocation.
        with self._lock:
            try:
                if self._raw is None:
                    self._raw = self._engine.raw_connection()
                    driver = self._raw.driver_connection
                    if hasattr(driver, "autocommit") and self._engine.dialect.name != "sqlite":
                        driver.autocommit = True
                cursor = self._raw.cursor()
                marker = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
                cursor.execute(f"SELECT value FROM smki_state WHERE key = {marker}",
                               (REVOCATION_VERSION,))
                row = cursor.fetchone()
                cursor.close()
            except Exception:
                self.close()
                raise
        return str(row[0]) if row else "0"

    def _refresh(self) -> frozenset[tuple[str, str]]:
        version = self._current_version()
        if version == self._version:
            return self._revoked
        with self._engine.connect() as conn:
            rows = conn.execute(select(tables.revocations.c.issuer,
                                       tables.revocations.c.serial_hex)).all()
        with self._lock:
            self._revoked = frozenset((r[0], r[1]) for r in rows)
            self._version = version
            return self._revoked

    def close(self) -> None:
        """Release the connection kept for the counter read."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()

    def is_revoked(self, issuer: str, serial: int) -> bool:
        """True when the certificate is on the shared revocation list as of now."""
        return (issuer, format(serial, "X")) in self._refresh()

    def entries(self) -> list[Revocation]:
        """Every revocation, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(tables.revocations)
                                .order_by(tables.revocations.c.revoked_at)).all()
        return [Revocation(r.issuer, int(r.serial_hex, 16), r.revoked_at.replace(tzinfo=UTC),
                           r.reason) for r in rows]


def build_crl(ca: CertificateAuthority, revoked: Iterable[Revocation], *, at: datetime,
              next_update: timedelta = timedelta(days=1)) -> x509.CertificateRevocationList:
    """An X.509 v2 CRL (RFC 5280 §5) signed by `ca`, listing the revocations it issued."""
    issuer = ca.name.rfc4514_string()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.name)
               .last_update(at.replace(microsecond=0))
               .next_update(at.replace(microsecond=0) + next_update))
    for entry in revoked:
        if entry.issuer != issuer:
            continue
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(entry.serial)
            .revocation_date(entry.revoked_at.replace(microsecond=0)).build())
    return builder.sign(ca.key, hashes.SHA256())
