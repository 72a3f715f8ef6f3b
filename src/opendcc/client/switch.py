"""Change of supplier over DUIS: the gaining supplier's SRV 6.23 Update Security Credentials
(CoS), one call per meter, from its own SMKI certificates.

    from opendcc.client import DccClient
    from opendcc.client.switch import Switcher
    with DccClient.from_reference("90-B3-D5-1F-30-03-00-00") as dcc:
        Switcher(dcc).switch("00-DB-12-34-56-78-90-A0", "1312345678111")

The request carries the supplier's digital-signing, key-agreement and prepayment top-up
key-agreement certificates and the CA certificates that issued them (the certification path).
The DCC checks that the sender is the supplier registered for the meter point now and that the
meter point is the meter's (E4 otherwise, nothing sent), has its Transitional CoS party sign
CS02b, and sends it over the SM WAN; the meter replaces its supplier anchors and its Response
comes back to the new supplier (I0). `switch` waits for that Response as the install helpers
do and raises `SwitchRefused` for anything else.

Registration comes first: the registration data providers tell the DCC of the change
(`send_registration_feed`, opendcc's `POST /admin/registrations`).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from opendcc.client.builder import SR_NS
from opendcc.client.dcc_client import DccClient
from opendcc.client.errors import ClientError, GatewayRejected
from opendcc.client.install import DeviceRef, _id
from opendcc.client.response import Response
from opendcc.config import reference_dir
from opendcc.gbcs import codec
from opendcc.gbcs.payload.asn1 import Enumerated, decode_asn1
from opendcc.gbcs.payload.asn1 import Sequence as Asn1Sequence
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import InvalidIdentifier, MPxN

#: What the common refusals mean for a gaining supplier (DUIS response codes).
_MEANING: Final = {
    "E4": "the sender is not the supplier registered for that meter point now, or the meter "
          "point is not the meter's (register the change first: the registration feed)",
    "E3": "the sender does not hold a supplier role eligible for SRV 6.23",
    "E20": "the meter could not be reached over the SM WAN",
    "E21": "the meter discarded the command",
}


#: The device types that hold supplier anchors a change of supplier replaces.
METERS: Final = frozenset({"ESME", "GSME"})
#: SMI statuses of devices no longer in service.
GONE: Final = frozenset({"Decommissioned", "Withdrawn"})


class SwitchRefused(ClientError):
    """SRV 6.23 for a meter did not succeed: the meter, the DCC's response (None when the
    gateway refused the request outright) and what the response code means."""

    def __init__(self, meter: str, response: Response | None, reason: str, *,
                 step: str = "6.23") -> None:
        code = response.response_code if response is not None else None
        meaning = _MEANING.get(code or "", "") if step == "6.23" else ""
        why = f" ({meaning})" if meaning else (f" ({reason})" if code and reason != code else "")
        super().__init__(f"{step} {meter}: {code or reason}{why}")
        self.meter = meter
        self.response = response
        self.code = code
        self.reason = reason if response is None or not meaning else meaning


class RegistrationRejected(ClientError):
    """The DCC refused a registration feed (HTTP 400): the line and why; nothing applied."""


def reference_certification_path() -> list[x509.Certificate]:
    """The CA certificates that issued the ZAZ1 test suppliers' SMKI certificates, learned at
    run time from the reference DUIS 6.23 request templates (SMKI publishes no CA certificate
    of the ZAZ1 test PKI). Empty if the reference folder holds none."""
    folder = reference_dir() / "duis" / "templates"
    for template in sorted(folder.glob("*_6.23_*REQUEST_DUIS.XML")):
        texts = etree.parse(str(template)).findall(
            ".//{*}CertificationPathCertificates/{*}Certificate")
        if texts:
            return [x509.load_der_x509_certificate(base64.b64decode("".join((t.text or "").split())))
                    for t in texts]
    return []


def load_certificates(paths: Sequence[Path]) -> list[x509.Certificate]:
    """Certificates from files (PEM, possibly several per file, or DER)."""
    out: list[x509.Certificate] = []
    for path in paths:
        data = path.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            out += x509.load_pem_x509_certificates(data)
        else:
            out.append(x509.load_der_x509_certificate(data))
    return out


def _statuses(content: bytes) -> list[int]:
    # UpdateSecurityCredentialsResponse ::= SEQUENCE { id, SEQUENCE { ..., ..., ...,
    # replacementOutcomes SEQUENCE OF SEQUENCE { cell, statusCode ENUMERATED, ... } } }
    root = decode_asn1(content)
    if not isinstance(root, Asn1Sequence) or len(root.elements) < 2:
        return []
    outcome = root.elements[1]
    if not isinstance(outcome, Asn1Sequence) or len(outcome.elements) < 4:
        return []
    replacements = outcome.elements[3]
    out: list[int] = []
    for item in replacements.elements if isinstance(replacements, Asn1Sequence) else ():
        status = (item.elements[1] if isinstance(item, Asn1Sequence) and len(item.elements) > 1
                  else None)
        out.append(status.value if isinstance(status, Enumerated) else -1)
    return out


def _b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


class Switcher:
    """The gaining supplier's change of supplier (SRV 6.23), sent through its `DccClient`.

    `keys` finds the supplier's own SMKI certificates (default: the client's GBCS key store,
    which `DccClient.from_reference` sets); `certification_path` is the CA certificates that
    issued them (default: the ZAZ1 path from the reference folder); `device_keys`, if given,
    holds the meters' SMKI certificates (opendcc's emulated devices are certified in its SMKI
    repository, not in the reference key store) to check each Response's device signature."""

    def __init__(self, client: DccClient, *, keys: KeyLookup | None = None,
                 certification_path: Sequence[x509.Certificate] | None = None,
                 device_keys: KeyLookup | None = None) -> None:
        self.client = client
        found = keys if keys is not None else getattr(client, "_gbcs_key", None)
        if found is None or not hasattr(found, "certificate"):
            raise ValueError("a change of supplier needs the supplier's SMKI certificates: "
                             "Switcher(client, keys=<a key store>)")
        self.keys: KeyLookup = found
        self.device_keys = device_keys
        self.certification_path = (list(certification_path) if certification_path is not None
                                   else reference_certification_path())

    def body(self, mpxn: MPxN | str, *, supplier_floor: int = 0,
             top_up_floor: int = 0) -> dict[str, object]:
        """The 6.23 Body (DUIS 5.4 UpdateSecurityCredentialsCoS) for `mpxn`, in schema order."""
        supplier = self.client.user_id
        ds = self.keys.certificate(supplier, "ds")
        ka = self.keys.certificate(supplier, "ka")
        if ds is None or ka is None:
            raise ValueError(f"no SMKI digital-signing and key-agreement certificates of "
                             f"{supplier}")
        # A supplier without a separate prepayment top-up certificate uses its KA one.
        top_up = self.keys.certificate(supplier, "ka", pp=True) or ka
        if not self.certification_path:
            raise ValueError(f"no certification path (the CA certificates that issued the "
                             f"certificates of {supplier})")
        point = mpxn if isinstance(mpxn, MPxN) else MPxN.parse(mpxn)
        return {"UpdateSecurityCredentialsCoS": {
            "SupplierFloorSeqNumber": supplier_floor,
            "SupplierPrepaymentTopUpFloorSeqNumber": top_up_floor,
            "SupplierReplacementCertificates": {
                "DigitalSigningCertificate": _b64(ds),
                "KeyAgreementCertificate": _b64(ka),
                "KeyAgreementTopUpCertificate": _b64(top_up)},
            "CertificationPathCertificates": {
                "Certificate": [_b64(c) for c in self.certification_path]},
            "ApplyTimeBasedCPVChecks": True,
            "ImportMPxN": str(point)}}

    def switch(self, meter: DeviceRef, mpxn: MPxN | str, *,
               timeout: float | None = None) -> Response:
        """SRV 6.23 for `meter` (an ESME or GSME) at meter point `mpxn`: returns the meter's
        Response (I0: it trusts this supplier now); raises `SwitchRefused` otherwise (E4 from
        the DCC when this supplier is not the registered one; the client's errors, HTTP
        refusal or no response in time, as its `reason`)."""
        device = _id(meter)
        try:
            body = self.body(mpxn)
            response = self.client.request("6.23", body, target=device, timeout=timeout)
        except (InvalidIdentifier, ValueError, ClientError) as exc:
            raise SwitchRefused(device, None, str(exc)) from exc
        if response.response_code != "I0":
            raise SwitchRefused(device, response, response.response_code)
        outcome = self.replacement_statuses(response)
        if not outcome or any(outcome):
            raise SwitchRefused(device, response, f"the meter replaced nothing: statusCode "
                                                  f"{outcome or 'missing'}")
        return response

    def replacement_statuses(self, response: Response) -> list[int]:
        """The statusCode of each certificate replacement in the meter's CS02b Response
        (GBCS 13.3 UpdateSecurityCredentialsResponse; 0 is success; a meter that refuses one
        certificate replaces none). With `device_keys` the device's signature on it is
        checked too. Raises `SwitchRefused` for a Response that does not decode or verify."""
        device = response.request_id.split(":")[1] if response.request_id else "?"
        payload = (response.body.findtext(f"{{{SR_NS}}}GBCSPayload")
                   if response.body is not None else None)
        if not payload:
            raise SwitchRefused(device, response, "the Response carries no GBCS payload")
        try:
            msg = codec.decode(base64.b64decode("".join(payload.split())), self.device_keys)
            outcome = _statuses(msg.apdu.content)
        except ValueError as exc:  # GbcsError, binascii.Error and InvalidTree among them
            raise SwitchRefused(device, response, f"the meter's Response does not decode or "
                                                  f"verify: {exc}") from exc
        if self.device_keys is not None and msg.verification is not codec.Verification.VERIFIED:
            raise SwitchRefused(device, response, "the meter's Response does not verify "
                                                  f"({msg.verification.value})")
        return outcome

    def meters_at(self, mpxn: MPxN | str) -> list[str]:
        """The meters (ESME, GSME) whose import, secondary import or export meter point is
        `mpxn`, from SRV 8.2 Read Inventory by MPxN; decommissioned and withdrawn ones left
        out. Raises `SwitchRefused` if the DCC refuses the read."""
        point = str(mpxn if isinstance(mpxn, MPxN) else MPxN.parse(mpxn))
        answer = self.client.request("8.2", {"ReadInventory": {"MPxN": point}})
        if answer.response_code != "I0" or answer.body is None:
            raise SwitchRefused(point, answer, "the meter point is not in the inventory, or not "
                                "this supplier's to read", step="8.2 Read Inventory")
        out: list[str] = []
        for device in answer.body.iter(f"{{{SR_NS}}}Device"):
            kind = (device.findtext(f"{{{SR_NS}}}DeviceType") or "").strip()
            status = (device.findtext(f"{{{SR_NS}}}DeviceStatus") or "").strip()
            points = {(device.findtext(f"{{{SR_NS}}}{name}") or "").strip()
                      for name in ("ImportMPxN", "SecondaryImportMPAN", "ExportMPAN")}
            # 8.2 by MPxN answers for the whole premises: keep the meters of this point.
            if kind in METERS and status not in GONE and point in points:
                out.append((device.findtext(f"{{{SR_NS}}}DeviceID") or "").strip())
        return out

    def switch_point(self, mpxn: MPxN | str, *,
                     timeout: float | None = None) -> list[tuple[str, Response]]:
        """`switch` every meter at `mpxn` (found with `meters_at`); `SwitchRefused` if there
        is none or one is refused (the meters before it keep their new anchors)."""
        meters = self.meters_at(mpxn)
        if not meters:
            raise SwitchRefused(str(mpxn), None, f"no meter in service at {mpxn} in the "
                                                 "inventory")
        return self.switch_all([(m, mpxn) for m in meters], timeout=timeout)

    def switch_all(self, meters: Sequence[tuple[DeviceRef, MPxN | str]], *,
                   timeout: float | None = None) -> list[tuple[str, Response]]:
        """`switch` each (meter, meter point) in order; stops at the first refusal (raised)."""
        return [(_id(m), self.switch(m, p, timeout=timeout)) for m, p in meters]


def send_registration_feed(base_url: str, feed: str, *,
                           http: httpx.Client | None = None) -> int:
    """POST a registration feed (CSV `mpxn,supplier_id,network_operator_id,effective_from`) to
    opendcc's `/admin/registrations`, as a registration data provider does: the number of
    records applied. Raises `RegistrationRejected` (nothing applied) or `GatewayRejected`."""
    client = http or httpx.Client(timeout=30.0)
    try:
        reply = client.post(f"{base_url.rstrip('/')}/admin/registrations",
                            content=feed.encode("utf-8"), headers={"Content-Type": "text/csv"})
    finally:
        if http is None:
            client.close()
    if reply.status_code == 400:
        raise RegistrationRejected(_detail(reply))
    if reply.status_code != 200:
        raise GatewayRejected(reply.status_code, _detail(reply))
    return int(reply.json()["applied"])


def _detail(reply: httpx.Response) -> str:
    try:
        return str(reply.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return reply.text.strip()


__all__ = ["RegistrationRejected", "SwitchRefused", "Switcher", "load_certificates",
           "reference_certification_path", "send_registration_feed"]
