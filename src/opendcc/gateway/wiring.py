"""Assembling a running gateway from configuration: store, keys, Data Service, outbox, worker.

`build_services(GatewayConfig(...))` opens (and migrates) the store, loads the SMKI key store,
makes the Data Service and the DCC signer, and wires the durable outbox to the delivery worker.
The HTTP app (`gateway.app`) and `opendcc serve` both start from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from sqlalchemy.engine import Connection

from opendcc.clock import Clock, SystemClock
from opendcc.core.device_layer import MillisecondCounter, TransformOnly
from opendcc.core.service import DataService as CoreDataService
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.request import SR as SR_NS
from opendcc.duis.response_codes import (
    CertificateExpired,
    CertificateRevoked,
    CertificateUnknown,
)
from opendcc.duis.xmldsig import CertificateLookup
from opendcc.gateway.delivery import DeliveryWorker, RetryPolicy, httpx_poster
from opendcc.gateway.metrics import Metrics
from opendcc.gateway.pipeline import (
    DEFAULT_MAX_BYTES,
    CertificateCheck,
    DataService,
    DccSigner,
    Gateway,
)
from opendcc.gateway.stores import StoreOutbox, StoreUsers
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo_estate
from opendcc.smki import errors as smki_errors
from opendcc.smki import validation
from opendcc.smki.keystore import KeyStore
from opendcc.smki.profile import SmkiCertificate, parse_certificate
from opendcc.smki.repository import CertificateRepository
from opendcc.store import audit as audit_log
from opendcc.store.engine import Store, open_store

DCC_ID = EUI64.parse("90-B3-D5-1F-30-00-00-02")
"""The DCC's entity ID in DCC Boxed (the target of non-device requests, the response signer)."""


@dataclass
class GatewayConfig:
    """What a gateway needs to start; every field has the embedded default."""

    store_url: str | None = None  # None: SQLite under the data directory
    reference: Path | None = None  # None: opendcc.config.reference_dir()
    clock: Clock = field(default_factory=SystemClock)
    max_bytes: int = DEFAULT_MAX_BYTES
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    seed: bool = True  # seed the ZAZ1 users and the demo estate into an empty store
    check_certificates: bool = True  # SMKI path, revocation and validity checks
    smki_url: str | None = None  # SMKI repository; None: smki.sqlite3 under the data directory


@dataclass
class Services:
    """Everything a running gateway holds."""

    gateway: Gateway
    store: Store
    keystore: KeyStore
    outbox: StoreOutbox
    users: StoreUsers
    metrics: Metrics
    worker: DeliveryWorker
    clock: Clock
    http: httpx.Client
    repository: CertificateRepository | None = None
    owns_repository: bool = True

    def deliver(self, user_id: EUI64 | str, response: etree._Element) -> int:
        """DUIS 5.4 §3.3: sign a DUIS Response or alert and queue it for the user's Receive
        Response Service; returns its sequence among the messages of its RequestID.

        For what reaches a user later than its request (device responses over the WAN, alerts,
        scheduled reads); responses decided with the request travel in `Outcome.deferred`.
        """
        user = user_id if isinstance(user_id, EUI64) else EUI64.parse(user_id)
        key = _message_id(response)
        body = self.gateway.signer.sign(response)
        with self.store.begin() as conn:
            sequence = self.outbox.enqueue_next_in(conn, user.hyphenated, key, body,
                                                   self.clock.now())
        self.worker.wake()
        return sequence

    def close(self) -> None:
        """Release connections."""
        self.http.close()
        self.store.close()
        if self.repository is not None and self.owns_repository:
            self.repository.close()


def _message_id(response: etree._Element) -> str:
    """What identifies a message for duplicate detection: its RequestID, else its ResponseID."""
    for name in ("RequestID", "ResponseID"):
        text = response.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}{name}")
        if text and text.strip():
            return text.strip()
    raise ValueError("a DUIS message to deliver needs a Header RequestID or ResponseID")


def certificate_check(validator: validation.Validator, clock: Clock) -> CertificateCheck:
    """SMKI relying-party checks (path, revocation, validity) as the DUIS rejections they cause."""

    # The SMKI view of a certificate never changes: parse each once (by its DER). Revocation,
    # dates and path are still checked on every request.
    parsed: dict[bytes, SmkiCertificate] = {}

    def check(certificate: x509.Certificate) -> None:
        try:
            der = certificate.public_bytes(Encoding.DER)
            smki = parsed.get(der)
            if smki is None:
                smki = parsed[der] = parse_certificate(der)
            validator.validate(smki, at=clock.now(), usage="ds")
        except smki_errors.Revoked as exc:
            raise CertificateRevoked(str(exc)) from None
        except (smki_errors.Expired, smki_errors.NotYetValid) as exc:
            raise CertificateExpired(str(exc)) from None
        except smki_errors.CertificateRejected as exc:
            raise CertificateUnknown(f"certificate not trusted: {exc}") from None

    return check


def certificate_lookup(keystore: KeyStore, repository: CertificateRepository | None
                       ) -> CertificateLookup:
    """KeyInfo issuer+serial to certificate: the reference key store, then the SMKI repository
    (which also holds the certificates opendcc's own SMKI issued)."""

    def lookup(issuer: str, serial: int) -> x509.Certificate | None:
        found = keystore.lookup(issuer, serial)
        if found is None and repository is not None:
            stored = repository.get(serial, issuer=issuer)
            found = stored.certificate.certificate if stored is not None else None
        return found

    return lookup


def make_data_service(store: Store, clock: Clock, keystore: KeyStore) -> DataService:
    """The DCC Data Service (`opendcc.core.service`) over this store, with the DCC Transform in
    front of the devices (Pre-Commands and local commands; E20 for what crosses the WAN)."""
    service: DataService = CoreDataService(
        store, load_catalogue(), clock,
        devices=TransformOnly(keystore, MillisecondCounter(clock)),
    )
    return service


def seed(store: Store) -> None:
    """Put the ZAZ1 test users and the demo estate into the store (idempotent)."""
    with store.begin() as conn:
        seed_demo_estate(conn)


def build_services(config: GatewayConfig, *, service: DataService | None = None,
                   store: Store | None = None,
                   repository: CertificateRepository | None = None) -> Services:
    """Open the store and assemble gateway, outbox, users, metrics and delivery worker.

    A `repository` given is shared, not owned: `Services.close()` leaves it open.
    """
    store = store or open_store(config.store_url)
    if config.seed:
        seed(store)
    keystore = KeyStore.from_reference(config.reference)
    dcc = keystore.xml_signing(DCC_ID)
    if dcc is None or dcc.private_key is None:
        raise RuntimeError(f"no DCC XML signing key for {DCC_ID} in the key store")
    owned = repository is None
    check: CertificateCheck | None = None
    if config.check_certificates:
        if repository is None:
            repository = CertificateRepository(config.smki_url)
            repository.import_reference(config.reference)
        check = certificate_check(repository.validator(), config.clock)
    outbox = StoreOutbox(store)
    users = StoreUsers(store)
    metrics = Metrics(outbox_depth=outbox.depth)
    # A dead endpoint must not hold up the others for long: connect fast or retry later.
    http = httpx.Client(timeout=httpx.Timeout(10.0, connect=2.0))
    worker = DeliveryWorker(outbox, users.response_url, httpx_poster(http), config.clock,
                            policy=config.retry, metrics=metrics)
    clock = config.clock

    def enqueue(conn: Connection, user_id: str, request_id: str, sequence: int,
                body: bytes) -> None:
        outbox.enqueue_in(conn, user_id, request_id, sequence, body, clock.now())

    def record(entry: audit_log.AuditRecord) -> None:
        with store.begin() as conn:
            audit_log.append(conn, entry)

    gateway = Gateway(
        keystore=keystore,
        service=service or make_data_service(store, clock, keystore),
        signer=DccSigner(dcc.private_key, dcc.certificate),
        clock=clock,
        enqueue=enqueue,
        check_certificate=check,
        lookup=certificate_lookup(keystore, repository),
        serialise_service=store.dialect == "sqlite",
        metrics=metrics,
        max_bytes=config.max_bytes,
        on_enqueued=worker.wake,
        audit=record,
    )
    return Services(gateway, store, keystore, outbox, users, metrics, worker, clock, http,
                    repository, owns_repository=owned)
