"""The DUIS request pipeline behind the three DCC Boxed endpoints, free of HTTP.

DUIS 5.4 §3 (Service User Gateway): a request is read, validated against the DUIS schema,
authenticated by its XML signature (certificate from SMKI, not revoked, not expired), its
RequestID originator must be the signer, and only then does the DCC Data Service act on it.
Every rejection, at whatever step, is turned into its answer by `Gateway.reject`, the one place
that builds the DUIS error response (or the bare HTTP status where DUIS gives no code).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from sqlalchemy.engine import Connection

from opendcc.clock import Clock
from opendcc.duis import response as duis_response
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import (
    DuisError,
    Oversize,
    SchemaInvalid,
    SignerNotOriginator,
    WrongContentType,
)
from opendcc.duis.xmldsig import CertificateLookup, sign, verify
from opendcc.duis.xsd import validate_duis
from opendcc.gateway.logs import log_event
from opendcc.gateway.metrics import Metrics
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore, entity_of
from opendcc.store.audit import AuditRecord

log = logging.getLogger("opendcc.gateway")

XML_MEDIA_TYPE = "application/xml"
DEFAULT_MAX_BYTES = 1_000_000
_SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"


class Endpoint(StrEnum):
    """The DCC Boxed web services (DUIS §3.3): Non-Device, Send Command, Transform."""

    D = "serviceD"
    S = "serviceS"
    T = "serviceT"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the gateway sends back: HTTP status, body, media type, and the DUIS code for metrics."""

    status: int
    body: bytes
    media_type: str
    code: str
    request_id: str | None = None


class DataService(Protocol):
    """The DCC Data Service (`opendcc.core.service.DataService`) as the gateway calls it."""

    def handle(self, request: Any, signer: EUI64, endpoint: str, *,
               on_outcome: Callable[[Connection, Any], None] | None = None) -> Any:
        """Act on an authenticated request: an Outcome with `.sync` and `.deferred` responses;
        `on_outcome` runs inside the Data Service's transaction."""
        ...


CertificateCheck = Callable[[x509.Certificate], None]
"""Raises a `DuisError` (revoked, expired, unknown issuer) when a certificate may not sign."""

Enqueue = Callable[[Connection, str, str, int, bytes], None]
"""Puts a signed async response (user, RequestID, sequence, document) into the durable outbox,
in the transaction of the connection given."""

Audit = Callable[[AuditRecord], None]
"""Appends one record to the audit log."""


@dataclass(frozen=True)
class DccSigner:
    """The DCC's DUIS signing credential (`dsp-xml-sign-*`): signs every response it sends."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def sign(self, root: etree._Element) -> bytes:
        """Sign a DUIS response (enveloped XMLDSig) and serialise it."""
        sign(root, self.private_key, self.certificate)
        return bytes(duis_response.serialize(root))


class Gateway:
    """Runs a request body through the pipeline and returns the `Answer` for the HTTP layer."""

    def __init__(
        self,
        *,
        keystore: KeyStore,
        service: DataService,
        signer: DccSigner,
        clock: Clock,
        enqueue: Enqueue,
        check_certificate: CertificateCheck | None = None,
        metrics: Metrics | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_enqueued: Callable[[], None] | None = None,
        audit: Audit | None = None,
        lookup: CertificateLookup | None = None,
        serialise_service: bool = False,
    ) -> None:
        self.keystore = keystore
        self.service = service
        self.signer = signer
        self.clock = clock
        self.enqueue = enqueue
        self.check_certificate = check_certificate
        self.metrics = metrics or Metrics()
        self.max_bytes = max_bytes
        self.on_enqueued = on_enqueued
        self.audit = audit
        self.lookup = lookup or keystore.lookup
        # SQLite has one writer at a time and its busy handler waits by sleeping: queueing the
        # Data Service's transactions on a lock here is faster and fairer than contending.
        self._service_lock: AbstractContextManager[object] = (
            threading.Lock() if serialise_service else nullcontext()
        )

    def submit(self, endpoint: Endpoint, body: bytes, content_type: str | None) -> Answer:
        """DUIS §3: answer one POST to serviceD/S/T."""
        started = time.perf_counter()
        request_id: str | None = None
        request: Any = None
        detail: str | None = None
        audited = False  # the Data Service audits every request that reaches it
        handled = False  # the Data Service has committed its decision
        try:
            _check_content_type(content_type)
            if len(body) > self.max_bytes:
                raise Oversize(f"message is {len(body)} bytes; the limit is {self.max_bytes}")
            root = parse_xml(body, max_bytes=self.max_bytes)
            validate_duis(root)
            if root.tag != f"{_SR}Request":
                raise SchemaInvalid(
                    f"the document is a {etree.QName(root).localname}; the DCC accepts sr:Request"
                )
            request_id = _request_id_text(root)
            request = read_request(root)
            signer = self._authenticate(root, request.request_id)
            audited = True
            request_id = request_id or str(request.request_id)
            with self._service_lock:
                outcome = self.service.handle(request, signer, endpoint.value,
                                              on_outcome=self._queue_deferred(signer, request_id))
            handled = True
            answer = self._accept(outcome, request_id)
        except DuisError as exc:
            detail = f"{type(exc).__name__}: {exc.detail}"
            answer = self.reject(exc, request_id, endpoint, request)
        except Exception as exc:  # a fault of ours, not of the request: 500, logged in full
            log.exception("internal error on %s for %s", endpoint.value, request_id)
            detail = f"internal error: {type(exc).__name__}"
            # Before the Data Service committed, its transaction (audit included) rolled back
            # and nothing of the request is stored; after, it is stored and audited already.
            audited = handled
            text = (b"internal error after the request was processed\n" if handled
                    else b"internal error; the request was not processed\n")
            answer = Answer(500, text, "text/plain; charset=utf-8", "HTTP 500", request_id)
        elapsed = time.perf_counter() - started
        self.metrics.observe_request(endpoint.value, answer.code, elapsed)
        log_event(log, "request", endpoint=endpoint.value, request_id=answer.request_id,
                  code=answer.code, status=answer.status, ms=round(elapsed * 1000, 2))
        if self.audit is not None and not audited:
            self.audit(AuditRecord(
                at=self.clock.now(),
                response_code=answer.code,
                originator=request_id.split(":")[0] if request_id else None,
                request_id=request_id,
                service_reference_variant=getattr(request, "service_reference_variant", None),
                endpoint=endpoint.value,
                detail=detail,
            ))
        return answer

    def _authenticate(self, root: etree._Element, request_id: RequestID) -> EUI64:
        """DUIS §3.4: the signature verifies with an SMKI certificate of the RequestID originator."""
        verified = verify(root, self.lookup, at=self.clock.now())
        if self.check_certificate is not None:
            self.check_certificate(verified.certificate)
        signer = entity_of(verified.certificate)
        if signer != request_id.originator:
            raise SignerNotOriginator(
                f"RequestID originator {request_id.originator} is not the signer "
                f"{signer if signer else 'of certificate serial ' + str(verified.serial)}"
            )
        return signer

    def _queue_deferred(self, user: EUI64, request_id: str) -> Callable[[Connection, Any], None]:
        """Sign the async responses and queue them in the Data Service's own transaction: they
        are stored if and only if the request is (a crash cannot keep one without the other)."""

        def queue(conn: Connection, outcome: Any) -> None:
            deferred: Sequence[etree._Element] = getattr(outcome, "deferred", ()) or ()
            for sequence, response in enumerate(deferred):
                self.enqueue(conn, user.hyphenated, _request_id_text(response) or request_id,
                             sequence, self.signer.sign(response))

        return queue

    def _accept(self, outcome: Any, request_id: str) -> Answer:
        if getattr(outcome, "deferred", None) and self.on_enqueued is not None:
            self.on_enqueued()
        sync = outcome.sync
        code = _response_code(sync)
        return Answer(200, self.signer.sign(sync), XML_MEDIA_TYPE, code, request_id)

    def reject(self, exc: DuisError, request_id: str | None, endpoint: Endpoint,
               request: Any = None) -> Answer:
        """The one place a rejection becomes an answer: the signed DUIS error response for its
        code (HTTP 200, as DCC Boxed), or its HTTP status with the reason where DUIS assigns
        no code."""
        log_event(log, "rejected", logging.WARNING, endpoint=endpoint.value,
                  request_id=request_id, error=type(exc).__name__, detail=exc.detail)
        if exc.code is None:
            text = f"{type(exc).__name__}: {exc.detail}\n".encode()
            return Answer(int(exc.http_status), text, "text/plain; charset=utf-8",
                          f"HTTP {int(exc.http_status)}", request_id)
        root = duis_response.error_response(
            exc, request_id, self.clock.now(),
            service_reference=getattr(request, "service_reference", None),
            variant=getattr(request, "service_reference_variant", None),
        )
        # DCC Boxed carries every DUIS response, E-codes included, in an HTTP 200: the
        # code is in the signed body (its clients treat any other status as a transport error).
        return Answer(200, self.signer.sign(root), XML_MEDIA_TYPE, exc.code.value, request_id)


def _check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in (XML_MEDIA_TYPE, "text/xml"):
        raise WrongContentType(
            f"Content-Type is {content_type or 'missing'}; DUIS requests are application/xml"
        )


def _request_id_text(root: etree._Element) -> str | None:
    node = root.find(f"{_SR}Header/{_SR}RequestID")
    return node.text.strip() if node is not None and node.text else None


def _response_code(root: etree._Element) -> str:
    node = root.find(f"{_SR}Header/{_SR}ResponseCode")
    return node.text.strip() if node is not None and node.text else "?"
