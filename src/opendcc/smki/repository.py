"""The SMKI repository: every published certificate, its status, and the revocation list, in one
SQL database shared by every opendcc process (SQLite file embedded, PostgreSQL at scale).

SEC Appendix M (SMKI Interface Design Specification): the repository answers searches by
serial, by subject (organisation entity) and by subject alternative name (device), with each
certificate's status: P pending, I in use, N not in use, E expired, R revoked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from opendcc.config import data_dir
from opendcc.ids import EUI64
from opendcc.smki import tables
from opendcc.smki.errors import CertificateRejected, RepositoryError
from opendcc.smki.keystore import KeyStore, KeyUsage, normalise_issuer
from opendcc.smki.profile import CertificateKind, SmkiCertificate, parse_certificate
from opendcc.smki.revocation import Revocation, RevocationList, bump_version
from opendcc.smki.validation import TrustStore, Validator, reference_certificates

SOURCE_OPENDCC = "opendcc"
SOURCE_REFERENCE = "reference"


class CertificateStatus(StrEnum):
    """SEC Appendix M certificate status codes."""

    PENDING = "P"
    IN_USE = "I"
    NOT_IN_USE = "N"
    EXPIRED = "E"
    REVOKED = "R"


@dataclass(frozen=True)
class StoredCertificate:
    """A certificate as the repository holds it."""

    certificate: SmkiCertificate
    name: str | None
    source: str
    private_key_pem: bytes | None
    superseded_by: str | None
    revocation: Revocation | None

    @property
    def serial(self) -> int:
        """The certificate serial."""
        return self.certificate.serial

    def status(self, at: datetime) -> CertificateStatus:
        """Appendix M status at a moment: revoked, expired, pending, superseded or in use."""
        cert = self.certificate
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if self.revocation is not None and self.revocation.revoked_at <= at:
            return CertificateStatus.REVOKED
        if at > cert.not_after:
            return CertificateStatus.EXPIRED
        if at < cert.not_before:
            return CertificateStatus.PENDING
        if self.superseded_by:
            return CertificateStatus.NOT_IN_USE
        return CertificateStatus.IN_USE

    def private_key(self) -> ec.EllipticCurvePrivateKey | None:
        """The private key, for parties opendcc plays."""
        if self.private_key_pem is None:
            return None
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key


def default_url() -> str:
    """The embedded default: `smki.sqlite3` under `opendcc.config.data_dir()`."""
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'smki.sqlite3'}"


def _engine_for(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    memory = url.rstrip("/") in ("sqlite:", "sqlite://") or ":memory:" in url
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["connect_args"]["timeout"] = 30
    engine = create_engine(url, **kwargs)
    if not memory:
        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            # WAL: readers (the per-request revocation check) never wait for a writer.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
    return engine


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _serial_hex(serial: int | str) -> str:
    if isinstance(serial, int):
        return format(serial, "X")
    text = serial.strip().replace(":", "")
    try:
        return format(int(text, 16), "X")
    except ValueError:
        raise RepositoryError(f"not a hex certificate serial: {serial!r}") from None


class CertificateRepository:
    """The persistent certificate repository and revocation list."""

    def __init__(self, url: str | Path | None = None, *, engine: Engine | None = None) -> None:
        if engine is None:
            if isinstance(url, Path) or (url is not None and "://" not in url):
                path = Path(url).resolve()
                path.parent.mkdir(parents=True, exist_ok=True)
                url = f"sqlite:///{path}"
            engine = _engine_for(url or default_url())
        self.engine = engine
        tables.metadata.create_all(engine)
        self.revocation_list = RevocationList(engine)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release pooled connections."""
        self.revocation_list.close()
        self.engine.dispose()

    # --- certificates -----------------------------------------------------------------------

    def add(self, cert: SmkiCertificate | bytes | str, *, name: str | None = None,
            private_key: ec.EllipticCurvePrivateKey | None = None,
            source: str = SOURCE_OPENDCC) -> StoredCertificate:
        """Publish a certificate (idempotent: a known issuer+serial keeps its row, gaining the
        private key if it had none)."""
        smki = cert if isinstance(cert, SmkiCertificate) else parse_certificate(cert)
        values = self._row(smki, name=name, private_key=private_key, source=source)
        key_pem = values["private_key"]
        c = tables.certificates.c
        with self.engine.begin() as conn:
            existing = conn.execute(select(c.id, c.der, c.private_key).where(
                c.issuer == smki.issuer_text, c.serial_hex == smki.serial_hex)).first()
        if existing is None:
            # Published concurrently by another process: the first row stands.
            with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
                conn.execute(insert(tables.certificates).values(**values))
        else:
            if existing.der != smki.der:
                raise RepositoryError(
                    f"a different certificate {smki.serial_hex} from {smki.issuer_text} is"
                    " already published")
            if existing.private_key is None and key_pem is not None:
                with self.engine.begin() as conn:
                    conn.execute(update(tables.certificates).where(c.id == existing.id)
                                 .values(private_key=key_pem))
        found = self.get(smki.serial, issuer=smki.issuer_text)
        assert found is not None
        return found

    @staticmethod
    def _row(smki: SmkiCertificate, *, name: str | None,
             private_key: ec.EllipticCurvePrivateKey | None, source: str) -> dict[str, Any]:
        key_pem = None if private_key is None else private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        return {
            "serial_hex": smki.serial_hex, "issuer": smki.issuer_text, "kind": smki.kind.value,
            "entity": smki.entity.hex if smki.entity else None, "role": smki.role,
            "usage": smki.usage.value if smki.usage else None, "common_name": smki.common_name,
            "not_before": _naive(smki.not_before), "not_after": _naive(smki.not_after),
            "der": smki.der, "private_key": key_pem, "name": name, "source": source,
        }

    def get(self, serial: int | str, *, issuer: str | None = None) -> StoredCertificate | None:
        """The certificate with this serial (hex text or int), optionally from one issuer."""
        found = self.search(serial=serial, issuer=issuer)
        return found[0] if found else None

    def search(self, *, serial: int | str | None = None, issuer: str | None = None,
               entity: EUI64 | None = None, kind: CertificateKind | None = None,
               usage: KeyUsage | str | None = None, role: int | None = None,
               source: str | None = None) -> list[StoredCertificate]:
        """Certificates matching every given criterion, oldest first."""
        c = tables.certificates.c
        query = select(tables.certificates).order_by(c.id)
        if serial is not None:
            query = query.where(c.serial_hex == _serial_hex(serial))
        if issuer is not None:
            query = query.where(c.issuer == issuer)
        if entity is not None:
            query = query.where(c.entity == entity.hex)
        if kind is not None:
            query = query.where(c.kind == CertificateKind(kind).value)
        if usage is not None:
            query = query.where(c.usage == KeyUsage(usage).value)
        if role is not None:
            query = query.where(c.role == int(role))
        if source is not None:
            query = query.where(c.source == source)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        revoked = {(r.issuer, r.serial_hex): r for r in self.revocations()}
        return [self._stored(row, revoked) for row in rows]

    def lookup(self, issuer: str, serial: int) -> x509.Certificate | None:
        """XMLDSig KeyInfo lookup (DUIS §2.4): the certificate by X509IssuerName and serial,
        whatever order or spacing the issuer name is written in."""
        wanted = normalise_issuer(issuer)
        for stored in self.search(serial=serial):
            if normalise_issuer(stored.certificate.issuer) == wanted:
                return stored.certificate.certificate
        return None

    def verified_lookup(self, validator: Validator, *, at: datetime,
                        usage: KeyUsage | str = KeyUsage.DS,
                        ) -> Callable[[str, int], x509.Certificate | None]:
        """A KeyInfo lookup for `opendcc.duis.xmldsig.verify` that returns a certificate only
        after `validator` accepted it at `at` for `usage` (else CertificateRejected propagates)."""

        def lookup(issuer: str, serial: int) -> x509.Certificate | None:
            found = self.lookup(issuer, serial)
            if found is None:
                return None
            validator.validate(found, at=at, usage=usage)
            return found

        return lookup

    def _stored(self, row: Row[Any], revoked: dict[tuple[str, str], Revocation]) -> StoredCertificate:
        return StoredCertificate(
            certificate=parse_certificate(row.der), name=row.name, source=row.source,
            private_key_pem=row.private_key, superseded_by=row.superseded_by,
            revocation=revoked.get((row.issuer, row.serial_hex)))

    def mark_superseded(self, old: StoredCertificate, replacement_serial: int) -> None:
        """Record that a renewal replaced `old` (its status becomes N, not in use)."""
        c = tables.certificates.c
        with self.engine.begin() as conn:
            conn.execute(update(tables.certificates).where(
                c.issuer == old.certificate.issuer_text,
                c.serial_hex == old.certificate.serial_hex)
                .values(superseded_by=format(replacement_serial, "X")))

    # --- revocation ---------------------------------------------------------------------------

    def revoke(self, serial: int | str, *, at: datetime, reason: str = "unspecified",
               issuer: str | None = None) -> Revocation:
        """Put a published certificate on the revocation list; every process sees it on its
        next check."""
        found = self.search(serial=serial, issuer=issuer)
        if not found:
            raise RepositoryError(f"no published certificate with serial {_serial_hex(serial)}")
        if len({f.certificate.issuer_text for f in found}) > 1:
            raise RepositoryError(f"serial {_serial_hex(serial)} is published by several issuers;"
                                  " name the issuer")
        cert = found[0].certificate
        if found[0].revocation is not None:
            return found[0].revocation
        entry = Revocation(cert.issuer_text, cert.serial, at.astimezone(UTC).replace(microsecond=0),
                           reason)
        # Revoked concurrently by another process: its revocation stands.
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
            conn.execute(insert(tables.revocations).values(
                issuer=entry.issuer, serial_hex=entry.serial_hex,
                revoked_at=_naive(entry.revoked_at), reason=reason))
            bump_version(conn)
        return entry

    def is_revoked(self, issuer: str, serial: int) -> bool:
        """The per-request check: one single-row read unless the list changed."""
        return self.revocation_list.is_revoked(issuer, serial)

    def revocations(self) -> list[Revocation]:
        """The whole revocation list."""
        return self.revocation_list.entries()

    # --- named values ---------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        """A named value (such as the PKI seed)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(tables.state.c.value)
                               .where(tables.state.c.key == key)).first()
        return None if row is None else str(row[0])

    def set_state_once(self, key: str, value: str) -> str:
        """Store a named value unless one is already there; return the value that stands."""
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
            conn.execute(insert(tables.state).values(key=key, value=value))
        stored = self.get_state(key)
        assert stored is not None
        return stored

    # --- import mode and trust -----------------------------------------------------------------

    def import_reference(self, root: Path | None = None) -> int:
        """Publish the ZAZ1 test certificates of the reference artefacts (with the test private
        keys they ship); returns how many certificates the repository now holds from it."""
        keys = KeyStore.from_reference(root)
        c = tables.certificates.c
        with self.engine.connect() as conn:
            known = {(r.issuer, r.serial_hex) for r in conn.execute(select(c.issuer, c.serial_hex))}
        rows = []
        for cert in reference_certificates(root):
            if (cert.issuer_text, cert.serial_hex) in known:
                continue
            known.add((cert.issuer_text, cert.serial_hex))
            cred = keys.by_issuer_serial(cert.issuer, cert.serial)
            rows.append(self._row(cert, name=cred.name if cred else None,
                                  private_key=cred.private_key if cred else None,
                                  source=SOURCE_REFERENCE))
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(tables.certificates), rows)
        return len(self.search(source=SOURCE_REFERENCE))

    def trust_store(self) -> TrustStore:
        """The trust the repository holds: opendcc's CA certificates (roots first, each
        subordinate checked against its root) and, import mode, every reference certificate."""
        store = TrustStore()
        cas = self.search(kind=CertificateKind.CA, source=SOURCE_OPENDCC)
        roots = [s for s in cas if s.certificate.certificate.subject == s.certificate.issuer]
        for stored in roots + [s for s in cas if s not in roots]:
            with contextlib.suppress(CertificateRejected):  # an unverifiable CA is not trusted
                store.add_ca(stored.certificate)
        for stored in self.search(source=SOURCE_REFERENCE):
            store.pin(stored.certificate)
        return store

    def validator(self, extra_trust: TrustStore | None = None) -> Validator:
        """The validator every process should use: the repository's trust plus the shared CRL.
        Trust published later (by `opendcc smki issue` in another process) is picked up when a
        certificate names an issuer not yet known."""

        def reload() -> TrustStore:
            trust = self.trust_store()
            return trust if extra_trust is None else trust.merged(extra_trust)

        return Validator(reload(), self.revocation_list, reload_trust=reload)


def new_seed() -> str:
    """A fresh random PKI seed, hex."""
    return os.urandom(32).hex()
