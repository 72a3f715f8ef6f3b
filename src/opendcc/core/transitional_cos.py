"""The DCC's Transitional CoS party: change of supplier carried out with GBCS CS02b.

For each meter of a switched meter point, the DCC acts on the gaining supplier's SRV 6.23
Update Security Credentials (CoS) (`cos_request`): the request carries the supplier's own SMKI
certificates (signing, key agreement and prepayment top-up key agreement) and the CA
certificate that issued them. The Transform builds the CS02b command (credentialsReplacementMode
supplierByTransCoS), the Transitional CoS party signs it (`core.transform.dcc_originated`), the
Access Control Broker MACs it, and it goes over the SM WAN to the meter (`over_wan`). The meter
checks it and replaces its supplier anchors (`devices.gbcs.credentials`); its signed Response
is checked here (the device's signature, every replacement's statusCode success) and reaches
the new supplier as a DUIS Response (`deliver`).

`TransitionalCoS` is the `CredentialTarget` the change-of-supplier worker
(`core.change_of_supplier.run_switches`) drives. What a meter trusts now (`supplier_anchor`,
which keeps each device step idempotent across worker crashes) is read from the emulated
device, standing in for GBCS CS02a Provide Security Credentials Details.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from lxml import etree

from opendcc.core.change_of_supplier import CredentialsNotReplaced
from opendcc.core.routing import RoutedCommand, device_response
from opendcc.core.transform import transform
from opendcc.core.transform.dcc_originated import TRANSITIONAL_COS
from opendcc.devices.gbcs import DeviceGbcsEndpoint
from opendcc.devices.security import RemotePartyRole
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import SR, DuisRequest, read_request
from opendcc.gbcs import codec
from opendcc.gbcs.codec import Verification
from opendcc.gbcs.payload.asn1 import Enumerated, Sequence, decode_asn1
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64, MPxN, RequestID

__all__ = ["TRANSITIONAL_COS", "CredentialsNotReplaced", "TransitionalCoS", "cos_request",
           "over_wan"]

#: Carries a GBCS Command to its device and back: the device's messages (Response first).
Transport = Callable[[bytes], list[bytes]]
#: Where a DUIS message for a user goes (the gateway's outbox).
Deliver = Callable[[EUI64, etree._Element], object]


class _Meter(Protocol):
    anchors: Any
    mpxn: MPxN | None


def _b64(certificate: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


def cos_request(supplier: EUI64, device: EUI64, mpxn: MPxN | None, counter: int,
                keys: KeyLookup, path: list[Any]) -> DuisRequest:
    """DUIS SRV 6.23 from `supplier` for `device`: its own DS, KA and prepayment KA
    certificates from SMKI, `path` (the CA certificates that issued them, as the supplier
    gives them), floors of 0."""
    ds = keys.certificate(supplier, "ds")
    ka = keys.certificate(supplier, "ka")
    if ds is None or ka is None:
        raise CredentialsNotReplaced(f"SMKI holds no signing and key agreement certificates "
                                     f"of {supplier}")
    top_up = keys.certificate(supplier, "ka", pp=True) or ka
    if not path:
        raise CredentialsNotReplaced(f"no certification path for the certificates of {supplier}")
    certs = (f"<sr:DigitalSigningCertificate>{_b64(ds)}</sr:DigitalSigningCertificate>"
             f"<sr:KeyAgreementCertificate>{_b64(ka)}</sr:KeyAgreementCertificate>"
             f"<sr:KeyAgreementTopUpCertificate>{_b64(top_up)}</sr:KeyAgreementTopUpCertificate>")
    mpxn_xml = f"<sr:ImportMPxN>{mpxn}</sr:ImportMPxN>" if mpxn is not None else ""
    xml = (f'<sr:Request xmlns:sr="{SR}" schemaVersion="5.4"><sr:Header>'
           f"<sr:RequestID>{RequestID(supplier, device, counter)}</sr:RequestID>"
           "<sr:CommandVariant>1</sr:CommandVariant><sr:ServiceReference>6.23"
           "</sr:ServiceReference><sr:ServiceReferenceVariant>6.23</sr:ServiceReferenceVariant>"
           "</sr:Header><sr:Body><sr:UpdateSecurityCredentialsCoS>"
           "<sr:SupplierFloorSeqNumber>0</sr:SupplierFloorSeqNumber>"
           "<sr:SupplierPrepaymentTopUpFloorSeqNumber>0</sr:SupplierPrepaymentTopUpFloorSeqNumber>"
           f"<sr:SupplierReplacementCertificates>{certs}</sr:SupplierReplacementCertificates>"
           "<sr:CertificationPathCertificates>"
           + "".join(f"<sr:Certificate>{_b64(c)}</sr:Certificate>" for c in path)
           + "</sr:CertificationPathCertificates>"
           "<sr:ApplyTimeBasedCPVChecks>true</sr:ApplyTimeBasedCPVChecks>"
           f"{mpxn_xml}</sr:UpdateSecurityCredentialsCoS></sr:Body></sr:Request>")
    return read_request(parse_xml(xml.encode()))


def statuses(response: bytes) -> list[int]:
    """The statusCode of each replacementOutcome in a CS02b Response (empty if none)."""
    root = decode_asn1(response)
    if not isinstance(root, Sequence) or len(root.elements) < 2:
        return []
    outcome = root.elements[1]
    if not isinstance(outcome, Sequence) or len(outcome.elements) < 4:
        return []
    replacements = outcome.elements[3]
    out: list[int] = []
    for item in replacements.elements if isinstance(replacements, Sequence) else ():
        status = item.elements[1] if isinstance(item, Sequence) and len(item.elements) > 1 else None
        out.append(status.value if isinstance(status, Enumerated) else -1)
    return out


def over_wan(endpoint: DeviceGbcsEndpoint, *, timeout_s: float = 3600.0) -> Transport:
    """A transport over the simulated SM WAN to the endpoint's devices. On a simulated clock it
    advances the clock until the delivery completes or its deadline passes; on a real one it
    waits (at most `timeout_s`)."""
    clock = endpoint.estate.clock
    advance = getattr(clock, "advance", None)

    def carry(command: bytes) -> list[bytes]:
        done = threading.Event()
        delivery = endpoint.send(command, on_done=lambda _d: done.set())
        if advance is None:
            done.wait(timeout_s)
        else:  # a simulated clock: run it to the answer (a GSME answers when it next wakes)
            advance(0.0)
            while not done.is_set() and clock.now() <= delivery.deadline:
                advance(10.0)
        if delivery.response is None:
            why = delivery.error or delivery.status.value
            raise CredentialsNotReplaced(f"{endpoint_device(command)} did not answer CS02b: {why}")
        return list(delivery.response)

    return carry


def endpoint_device(command: bytes) -> str:
    """The device a Command is addressed to."""
    from opendcc.devices.gbcs import addressee

    return addressee(command)


class TransitionalCoS:
    """The Transitional CoS party reaching meters with CS02b (a `CredentialTarget`)."""

    def __init__(self, keys: KeyLookup, transport: Transport,
                 lookup: Callable[[EUI64], _Meter | None], counter: Callable[[], int],
                 path_of: Callable[[EUI64], list[Any]], *, deliver: Deliver | None = None,
                 ) -> None:
        self.keys = keys
        self.path_of = path_of
        self.transport = transport
        self.lookup = lookup
        self.counter = counter
        self.deliver = deliver
        self.commands_sent = 0
        self._lock = threading.Lock()

    @classmethod
    def over(cls, endpoint: DeviceGbcsEndpoint, keys: KeyLookup, counter: Callable[[], int],
             path_of: Callable[[EUI64], list[Any]], *,
             deliver: Deliver | None = None) -> TransitionalCoS:
        """Over the simulated SM WAN to the endpoint's emulated estate."""
        estate = endpoint.estate

        def lookup(device: EUI64) -> Any:
            return estate.device(device.hyphenated) if device.hyphenated in estate else None

        return cls(keys, over_wan(endpoint), lookup, counter, path_of, deliver=deliver)

    def supplier_anchor(self, device_id: EUI64) -> EUI64 | None:
        """The supplier the meter trusts now."""
        meter = self.lookup(device_id)
        anchor = None if meter is None else meter.anchors.get(RemotePartyRole.SUPPLIER)
        return None if anchor is None else EUI64.parse(anchor.entity)

    def replace_supplier(self, device_id: EUI64, new_supplier: EUI64, now: datetime) -> None:
        """SRV 6.23 for `new_supplier`: CS02b signed by the TCoS party, over the WAN; the
        meter's signed Response checked and delivered to the new supplier."""
        meter = self.lookup(device_id)
        with self._lock:  # one exchange at a time over the (single-threaded) simulated WAN
            request = cos_request(new_supplier, device_id, meter.mpxn if meter else None,
                                  self.counter(), self.keys, self.path_of(new_supplier))
            # CS02b is one command for every device type (GBCS 13.3): no type narrows it.
            result = transform(request, now=now, counter=self.counter(), keys=self.keys)
            response, *_alerts = self.transport(result.gbcs)
            self.commands_sent += 1
        msg = codec.decode(response, self.keys)
        if msg.verification is not Verification.VERIFIED:
            raise CredentialsNotReplaced(f"the Response of {device_id} does not verify")
        outcome = statuses(msg.apdu.content)
        if self.deliver is not None:
            routed = RoutedCommand(request.request_id, "6.23", "6.23")
            self.deliver(new_supplier, device_response(routed, response, now))
        if not outcome or any(outcome):
            raise CredentialsNotReplaced(f"{device_id} refused the credentials of {new_supplier}: "
                                         f"statusCode {outcome}")
