"""`DccClient`: the one object a service user needs to talk DUIS to opendcc (or DCC Boxed).

It builds a schema-shaped DUIS Request for any SRV, raises the RequestID counter, signs with the
user's key, POSTs to the endpoint the Command Variant belongs to, checks the DCC's signature on
every answer, and for the Send Command Service waits for the asynchronous response on its own
small receiver. Users of the SDK never handle canonicalisation, signatures or counters.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from opendcc.client.builder import SR_NS, Body, build_request
from opendcc.client.correlate import correlate, sign_pre_command
from opendcc.client.counter import Counter
from opendcc.client.errors import GatewayRejected, ResponseNotTrusted, UnknownServiceRequest
from opendcc.client.receiver import Receiver
from opendcc.client.response import Response, parse_response
from opendcc.config import data_dir
from opendcc.duis.catalogue import Catalogue, CommandVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.response_codes import DuisError
from opendcc.duis.xmldsig import sign, verify
from opendcc.duis.xsd import validate_duis
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore, KeyUsage, normalise_issuer

DCC_ID = EUI64.parse("90-B3-D5-1F-30-00-00-02")
"""The DCC's own entity ID (DCC Boxed): the target of every non-device request."""

DEFAULT_URL = "http://127.0.0.1:8079"


class DccClient:
    """A DUIS service user: sends signed requests and returns verified, parsed responses."""

    def __init__(
        self,
        base_url: str,
        user_id: EUI64 | str,
        private_key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        *,
        dcc_certificate: x509.Certificate | Sequence[x509.Certificate],
        counter: Counter | None = None,
        catalogue: Catalogue | None = None,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        receiver_host: str = "127.0.0.1",
        receiver_port: int = 0,
        register_receiver: bool = True,
        gbcs_key: ec.EllipticCurvePrivateKey | KeyLookup | None = None,
        on_message: Callable[[Response], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id if isinstance(user_id, EUI64) else EUI64.parse(user_id)
        self._key = private_key
        self._certificate = certificate
        # The DCC has signed with several XML signing certificates over its versions: trust each.
        self._dcc_certificates = ([dcc_certificate] if isinstance(dcc_certificate, x509.Certificate)
                                  else list(dcc_certificate))
        self.counter = counter or Counter(data_dir() / "client" / f"{self.user_id.hex}.counter")
        self.catalogue = catalogue or load_catalogue()
        self._http = http or httpx.Client(timeout=timeout)
        self._own_http = http is None
        self.timeout = timeout
        self._receiver_host = receiver_host
        self._receiver_port = receiver_port
        # opendcc learns the receiver's URL through its admin endpoint; DCC Boxed is configured
        # with a fixed response endpoint instead (register_receiver=False, a fixed port).
        self._register_receiver = register_receiver
        self._receiver: Receiver | None = None
        # GBCS digital-signing key (or a key store holding it) for signing Pre-Commands.
        self._gbcs_key = gbcs_key
        self._on_message = on_message  # every async message the receiver accepts (alerts too)

    @classmethod
    def from_reference(cls, user_id: EUI64 | str, base_url: str = DEFAULT_URL,
                       **kwargs: Any) -> DccClient:
        """A client for one of the ZAZ1 test users, with keys from the reference key store."""
        keystore = KeyStore.from_reference()
        eui = user_id if isinstance(user_id, EUI64) else EUI64.parse(user_id)
        mine = keystore.xml_signing(eui)
        dcc = [c.certificate for c in keystore.credentials(DCC_ID, KeyUsage.DS)]
        if mine is None or mine.private_key is None:
            raise ValueError(f"no XML signing key for user {eui} in the reference key store")
        if not dcc:
            raise ValueError("no DCC XML signing certificate in the reference key store")
        kwargs.setdefault("gbcs_key", keystore)
        return cls(base_url, eui, mine.private_key, mine.certificate, dcc_certificate=dcc,
                   **kwargs)

    # --- the safe layer ------------------------------------------------------------------------

    def request(self, srv_variant: str, body: Body, *, target: EUI64 | str | None = None,
                command_variant: int | None = None, timeout: float | None = None) -> Response:
        """Send one Service Request and return its outcome.

        Non-device and transform requests return the synchronous response; Send Command
        requests return the asynchronous device response (after the I99 acknowledgement), or
        the acknowledgement itself when it is an error.
        """
        ack = self.submit(srv_variant, body, target=target, command_variant=command_variant)
        if ack.response_code != "I99" or ack.request_id is None:
            return ack
        return self.receiver().wait_for(ack.request_id, timeout or self.timeout,
                                        lambda r: r.response_code != "I99")

    def submit(self, srv_variant: str, body: Body, *, target: EUI64 | str | None = None,
               command_variant: int | None = None) -> Response:
        """Send one Service Request and return the synchronous answer only (I0, I99 or error)."""
        document, endpoint = self._prepare(srv_variant, body, target, command_variant)
        return self.send_xml(document, endpoint)

    def request_critical(self, srv_variant: str, body: Body, *, target: EUI64 | str,
                         command_variant: int = CommandVariant.SIGNED_SEND,
                         timeout: float | None = None) -> Response:
        """A critical SRV end to end (DUIS 5.4 §3.2): send it with Command Variant 4, check the
        Pre-Command the DCC returns against the request (`client.correlate`; a mismatch raises
        and nothing is signed), sign it (GBCS General Signing, the user's digital-signing key),
        send it back with Command Variant 5, 6 or 7, and return the final response."""
        cv = CommandVariant(command_variant)
        if cv not in (CommandVariant.SIGNED_SEND, CommandVariant.SIGNED_LOCAL,
                      CommandVariant.SIGNED_SEND_AND_LOCAL):
            raise UnknownServiceRequest(f"a signed Pre-Command goes with Command Variant 5, 6 or "
                                        f"7, not {command_variant}")
        request, _ = self._prepare(srv_variant, body, target, CommandVariant.TRANSFORM)
        transformed = self.send_xml(request, "serviceT")
        payload = (transformed.body.findtext(f"{{{SR_NS}}}PreCommand/{{{SR_NS}}}GBCSPayload")
                   if transformed.body is not None else None)
        if transformed.response_code != "I0" or not payload:
            return transformed
        if self._gbcs_key is None:
            raise ValueError("signing a Pre-Command needs the user's GBCS key: DccClient(gbcs_key=)")
        pre_command = base64.b64decode("".join(payload.split()))
        correlation = correlate(request, pre_command)
        signed = sign_pre_command(pre_command, correlation, self._gbcs_key)
        document, endpoint = self._prepare(
            srv_variant, {"SignedPreCommand": {"GBCSPayload": base64.b64encode(signed).decode()}},
            target, cv)
        answer = self.send_xml(document, endpoint)
        if answer.response_code != "I99" or answer.request_id is None:
            return answer
        return self.receiver().wait_for(answer.request_id, timeout or self.timeout,
                                        lambda r: r.response_code != "I99")

    def _prepare(self, srv_variant: str, body: Body, target: EUI64 | str | None,
                 command_variant: int | None) -> tuple[bytes, str]:
        """The signed request document and the endpoint its Command Variant belongs to."""
        try:
            srv = self.catalogue.get(srv_variant)
        except DuisError as exc:
            raise UnknownServiceRequest(str(exc)) from None
        cv = CommandVariant(command_variant or _default_command_variant(srv.non_device,
                                                                         srv.critical))
        try:
            srv.check_command_variant(cv)
        except DuisError as exc:
            raise UnknownServiceRequest(str(exc)) from None
        if target is None:
            if not srv.non_device:
                raise ValueError(f"SRV {srv.variant} targets a device: give target=<device EUI-64>")
            target = DCC_ID
        device = target if isinstance(target, EUI64) else EUI64.parse(target)
        if cv.endpoint == "serviceS":
            self.receiver()  # registered before sending, so no response can miss it
        request_id = RequestID(self.user_id, device, self.counter.next())
        return self.sign(build_request(request_id, srv, cv, body)), cv.endpoint

    def sign(self, root: etree._Element) -> bytes:
        """Sign a DUIS request with the user's key (enveloped XMLDSig, as DUIS requires)."""
        sign(root, self._key, self._certificate)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def send_xml(self, document: bytes, endpoint: str) -> Response:
        """POST an already signed DUIS document to serviceD/S/T and verify the answer."""
        reply = self._http.post(f"{self.base_url}/api/v1/{endpoint}", content=document,
                                headers={"Content-Type": "application/xml"})
        media = reply.headers.get("content-type", "").split(";")[0].strip()
        if media != "application/xml":
            raise GatewayRejected(reply.status_code, reply.text.strip())
        return self.verify_response(reply.content)

    def verify_response(self, document: bytes) -> Response:
        """Check a DUIS response as a DCC Boxed receiver does: DUIS schema, then the signature
        against the DCC's certificates; parse it."""
        try:
            root = parse_xml(document)
            validate_duis(root)
            verify(root, self._lookup_dcc)
        except DuisError as exc:
            raise ResponseNotTrusted(f"response not accepted: {exc}") from None
        return parse_response(root, document)

    def _lookup_dcc(self, issuer: str, serial: int) -> x509.Certificate | None:
        for cert in self._dcc_certificates:
            if serial == cert.serial_number and (
                not issuer or normalise_issuer(issuer) == normalise_issuer(cert.issuer)
            ):
                return cert
        return None

    # --- the receiver ---------------------------------------------------------------------------

    def receiver(self) -> Receiver:
        """Start (once) the local Receive Response Service and register its URL with the DCC."""
        if self._receiver is None:
            receiver = Receiver(self.verify_response, host=self._receiver_host,
                                port=self._receiver_port, on_message=self._on_message).start()
            if self._register_receiver:
                try:
                    self.register_response_url(receiver.url)
                except Exception:
                    receiver.close()
                    raise
            self._receiver = receiver
        return self._receiver

    def register_response_url(self, url: str) -> None:
        """Tell opendcc where to POST this user's async responses (opendcc admin endpoint)."""
        reply = self._http.put(f"{self.base_url}/admin/users/{self.user_id.hyphenated}/response-url",
                               json={"url": url})
        if reply.status_code != 200:
            raise GatewayRejected(reply.status_code, reply.text.strip())

    def close(self) -> None:
        """Stop the receiver and close HTTP connections."""
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None
        if self._own_http:
            self._http.close()

    def __enter__(self) -> DccClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _default_command_variant(non_device: bool, critical: bool) -> int:
    """CV 8 for non-device SRVs, 4 (transform) for critical ones, else 1 (send over the WAN)."""
    if non_device:
        return CommandVariant.NON_DEVICE
    return CommandVariant.TRANSFORM if critical else CommandVariant.SEND


def counter_path(user_id: EUI64) -> Path:
    """Where the SDK keeps a user's last RequestID counter by default."""
    return data_dir() / "client" / f"{user_id.hex}.counter"
