"""DUIS response codes (the XSD's `ResponseCode` enumeration), their meanings, and the gateway's
rejections as exceptions, each naming exactly one response code or HTTP status in one table.

DUIS 5.4 §3.5 (Response Codes): `I0` success, `I99` acknowledgement, `E…` errors. Codes of the
form `E` + SRV digits + two-digit sequence (e.g. `E080201`) and `W…` are Service-Request-specific
errors and warnings. Rejections the specification answers only at the HTTP level (the message
cannot be read as a DUIS request at all) carry `code = None` and an HTTP status.
"""

from __future__ import annotations

import re
from enum import StrEnum
from http import HTTPStatus
from typing import ClassVar


class ResponseCode(StrEnum):
    """Every value of `sr:ResponseCode` in DUIS Schema V5.4."""

    I0 = "I0"
    I99 = "I99"
    E1 = "E1"
    E2 = "E2"
    E3 = "E3"
    E4 = "E4"
    E5 = "E5"
    E11 = "E11"
    E12 = "E12"
    E13 = "E13"
    E17 = "E17"
    E19 = "E19"
    E20 = "E20"
    E21 = "E21"
    E30 = "E30"
    E31 = "E31"
    E40 = "E40"
    E41 = "E41"
    E42 = "E42"
    E43 = "E43"
    E44 = "E44"
    E45 = "E45"
    E46 = "E46"
    E47 = "E47"
    E48 = "E48"
    E49 = "E49"
    E50 = "E50"
    E51 = "E51"
    E52 = "E52"
    E53 = "E53"
    E54 = "E54"
    E55 = "E55"
    E56 = "E56"
    E57 = "E57"
    E58 = "E58"
    E59 = "E59"
    E60 = "E60"
    E61 = "E61"
    E62 = "E62"
    E63 = "E63"
    E64 = "E64"
    E65 = "E65"
    E66 = "E66"
    E67 = "E67"
    E68 = "E68"
    E69 = "E69"
    E70 = "E70"
    E71 = "E71"
    E100 = "E100"
    E1000 = "E1000"
    E1001 = "E1001"
    E1003 = "E1003"
    E1004 = "E1004"
    E1006 = "E1006"
    E1007 = "E1007"
    E1008 = "E1008"
    E1010 = "E1010"
    E1011 = "E1011"
    E010101 = "E010101"
    E010102 = "E010102"
    E010201 = "E010201"
    E030301 = "E030301"
    E030302 = "E030302"
    E040101 = "E040101"
    E041701 = "E041701"
    E050101 = "E050101"
    E050102 = "E050102"
    E050103 = "E050103"
    E050105 = "E050105"
    E050107 = "E050107"
    E050108 = "E050108"
    E050109 = "E050109"
    E050110 = "E050110"
    E050111 = "E050111"
    E050112 = "E050112"
    E050201 = "E050201"
    E050202 = "E050202"
    W050201 = "W050201"
    E050301 = "E050301"
    E050302 = "E050302"
    W050301 = "W050301"
    E060501 = "E060501"
    E060502 = "E060502"
    E060701 = "E060701"
    E060801 = "E060801"
    E060802 = "E060802"
    E060803 = "E060803"
    E061301 = "E061301"
    E061304 = "E061304"
    E061305 = "E061305"
    E061501 = "E061501"
    E061504 = "E061504"
    E061505 = "E061505"
    E061506 = "E061506"
    E061507 = "E061507"
    E061508 = "E061508"
    E061509 = "E061509"
    E061801 = "E061801"
    E061802 = "E061802"
    E061803 = "E061803"
    E062101 = "E062101"
    E062102 = "E062102"
    E062103 = "E062103"
    E062105 = "E062105"
    E062201 = "E062201"
    E062202 = "E062202"
    E062203 = "E062203"
    E062301 = "E062301"
    E062302 = "E062302"
    E062303 = "E062303"
    E062304 = "E062304"
    E062305 = "E062305"
    E062306 = "E062306"
    E062401 = "E062401"
    E062402 = "E062402"
    E062403 = "E062403"
    E062801 = "E062801"
    E062802 = "E062802"
    E062803 = "E062803"
    E080201 = "E080201"
    E080202 = "E080202"
    E080301 = "E080301"
    E080302 = "E080302"
    E080405 = "E080405"
    E080406 = "E080406"
    E080407 = "E080407"
    E080408 = "E080408"
    E080409 = "E080409"
    E080410 = "E080410"
    E080411 = "E080411"
    E080412 = "E080412"
    E080413 = "E080413"
    E080414 = "E080414"
    E080415 = "E080415"
    E080501 = "E080501"
    E080502 = "E080502"
    E080503 = "E080503"
    E080601 = "E080601"
    E080602 = "E080602"
    E080604 = "E080604"
    E080606 = "E080606"
    E080607 = "E080607"
    E080702 = "E080702"
    E080721 = "E080721"
    E080722 = "E080722"
    E080723 = "E080723"
    E080801 = "E080801"
    E080821 = "E080821"
    E080822 = "E080822"
    E080901 = "E080901"
    E080902 = "E080902"
    E080903 = "E080903"
    E081101 = "E081101"
    E081102 = "E081102"
    E081104 = "E081104"
    E081105 = "E081105"
    E081106 = "E081106"
    E081107 = "E081107"
    E081108 = "E081108"
    E081109 = "E081109"
    E081110 = "E081110"
    E081111 = "E081111"
    E081202 = "E081202"
    E081204 = "E081204"
    E081205 = "E081205"
    E081221 = "E081221"
    E081222 = "E081222"
    E081223 = "E081223"
    E081301 = "E081301"
    E081302 = "E081302"
    E081303 = "E081303"
    E081401 = "E081401"
    E081402 = "E081402"
    E081405 = "E081405"
    E081406 = "E081406"
    W081401 = "W081401"
    E110101 = "E110101"
    E110102 = "E110102"
    E110103 = "E110103"
    E110105 = "E110105"
    E110106 = "E110106"
    W110101 = "W110101"
    E110401 = "E110401"
    E110402 = "E110402"
    E110403 = "E110403"
    E110405 = "E110405"
    W110401 = "W110401"
    E120101 = "E120101"
    E120102 = "E120102"
    E120103 = "E120103"
    E120201 = "E120201"
    E120203 = "E120203"
    E120204 = "E120204"
    E120207 = "E120207"


# DUIS §3.5 meanings, as (category, meaning). Data, not logic: one row per documented code.
_MEANINGS: dict[str, tuple[str, str]] = {
    "I0": ("Success", "the request has had a successful outcome"),
    "I99": ("Acknowledgement", "the request has been accepted, passed access control and is "
            "being sent to the device; or a non-device request succeeded with no data to return"),
    "E1": ("Failed Authorisation", "invalid User / User Role: the combination is not a valid "
           "SEC Party and User Role"),
    "E2": ("Failed Authorisation", "invalid User Role / Service Reference: the User Role may not "
           "send this Service Request"),
    "E3": ("Failed Authorisation", "invalid User status: the User's status does not permit this "
           "Service Request"),
    "E4": ("Failed Authorisation", "invalid User / User Role for Device: the User is not the "
           "registered party for the device at the required date and time"),
    "E5": ("Failed Authorisation", "invalid Device status: the device's SMI status is "
           "incompatible with the Service Request"),
    "E11": ("Failed Validation", "invalid Service Request / device type combination"),
    "E12": ("Failed Validation", "invalid Request / Command Variant combination: the Command "
            "Variant is not applicable to the request type"),
    "E13": ("Failed Validation", "invalid request type for URL (e.g. a non-device request sent "
            "to the Transform URL)"),
    "E17": ("Failed Authorisation", "command for local delivery not available for this User "
            "Role / device status"),
    "E19": ("Failed Authorisation", "device does not exist: the Device ID is not in the "
            "Smart Metering Inventory"),
    "E20": ("Communications Failure", "unable to communicate with the device"),
    "E21": ("Communications Failure", "no response received from the device for an on-demand "
            "or future-dated command"),
    "E30": ("Time-out", "future-dated command: no response within the expected period"),
}

_SRV_SPECIFIC = re.compile(r"^([EW])(\d\d)(\d\d)(\d\d)$")


def meaning(code: ResponseCode) -> str:
    """What a response code means (DUIS §3.5), or a plain statement that it is not tabulated here."""
    if code.value in _MEANINGS:
        category, text = _MEANINGS[code.value]
        return f"{category}: {text}"
    m = _SRV_SPECIFIC.match(code.value)
    if m:
        kind = "error" if m.group(1) == "E" else "warning"
        srv = f"{int(m.group(2))}.{int(m.group(3))}"
        return f"Service-Request-specific {kind} #{int(m.group(4))} for SRV {srv}"
    return "DUIS error code (meaning not tabulated in opendcc; see the DUIS specification)"


class DuisError(Exception):
    """A rejection the DCC answers with one DUIS response code, or one HTTP status where DUIS gives none."""

    code: ClassVar[ResponseCode | None] = None
    http_status: ClassVar[int] = HTTPStatus.BAD_REQUEST

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        label = self.code.value if self.code is not None else f"HTTP {self.http_status}"
        return f"{label}: {self.detail}"


# --- the message cannot be read as a DUIS request: HTTP status only ---------------------------

class WrongContentType(DuisError):
    """The HTTP body is not declared as application/xml."""

    http_status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class Oversize(DuisError):
    """The message exceeds the size the gateway accepts."""

    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class MalformedXml(DuisError):
    """The message is not well-formed XML."""


class ForbiddenDtd(MalformedXml):
    """The message carries a DTD or entity declarations (XXE, entity expansion): refused unread."""


class SchemaInvalid(DuisError):
    """The message is not valid against DUIS Schema V5.4."""


# --- authentication: the signature and the signer ---------------------------------------------

class SignatureError(DuisError):
    """The digital signature does not authenticate the message."""

    http_status = HTTPStatus.UNAUTHORIZED


class SignatureMissing(SignatureError):
    """The message carries no ds:Signature."""


class SignatureInvalid(SignatureError):
    """The digest or the signature value does not match the message."""


class CertificateUnknown(SignatureError):
    """KeyInfo names no certificate, or one that is not in the SMKI repository."""


class CertificateRevoked(SignatureError):
    """The signing certificate has been revoked."""


class CertificateExpired(SignatureError):
    """The signing certificate is outside its validity period."""


class SignerNotOriginator(DuisError):
    """The signing certificate does not belong to the RequestID's originator (E1: not a valid SEC Party / User Role)."""

    code = ResponseCode.E1
    http_status = HTTPStatus.FORBIDDEN


class RequestIdInvalid(DuisError):
    """The RequestID is not originator:target:counter as DUIS §3.4 defines it."""


class CounterReplayed(DuisError):
    """The RequestID counter is not greater than the last one this originator used."""

    http_status = HTTPStatus.CONFLICT


# --- access control and validation against the catalogue ---------------------------------------

class RoleNotEligible(DuisError):
    """The user's role may not send this Service Request Variant."""

    code = ResponseCode.E2
    http_status = HTTPStatus.FORBIDDEN


class UserStatusInvalid(DuisError):
    """The user's SEC status does not permit Service Requests."""

    code = ResponseCode.E3
    http_status = HTTPStatus.FORBIDDEN


class NotRegisteredParty(DuisError):
    """The user is not the registered supplier / network operator for the device."""

    code = ResponseCode.E4
    http_status = HTTPStatus.FORBIDDEN


class DeviceStatusInvalid(DuisError):
    """The device's SMI status is incompatible with the Service Request."""

    code = ResponseCode.E5


class DeviceTypeInvalid(DuisError):
    """The Service Request does not apply to this type of device."""

    code = ResponseCode.E11


class UnknownServiceRequestVariant(DuisError):
    """The Service Reference Variant is not in the SRV catalogue or does not belong to the Service Reference."""


class WrongCommandVariant(DuisError):
    """The Command Variant does not fit the SRV (e.g. a critical SRV sent as CV 1)."""

    code = ResponseCode.E12


class WrongEndpoint(DuisError):
    """The request type does not fit the URL it was sent to (e.g. non-device to serviceT)."""

    code = ResponseCode.E13


class LocalCommandNotAvailable(DuisError):
    """A command for local delivery is not available for this role and device."""

    code = ResponseCode.E17
    http_status = HTTPStatus.FORBIDDEN


class DeviceUnknown(DuisError):
    """The Device ID is not in the Smart Metering Inventory."""

    code = ResponseCode.E19
    http_status = HTTPStatus.NOT_FOUND


class DeviceNotReachable(DuisError):
    """The DCC cannot (yet) communicate with the device: no device layer or no WAN connection."""

    code = ResponseCode.E20
    http_status = HTTPStatus.SERVICE_UNAVAILABLE


class UserUnknown(DuisError):
    """The signer is not a DUIS user of the DCC (E1: not a valid SEC Party / User Role)."""

    code = ResponseCode.E1
    http_status = HTTPStatus.FORBIDDEN


class ExecutionDateTimeExpired(DuisError):
    """A future-dated request whose ExecutionDateTime is not after the time the DCC receives it.

    The DUIS response-code tables opendcc could consult give no code of its own for an execution
    date-time in the past (the codes E40-E71 of the schema's enumeration are not tabulated here),
    so it is answered as DUIS answers any request value the DCC cannot accept: HTTP 400, no code.
    """


class RequestQuarantined(DuisError):
    """The request would exceed the user's Anomaly Detection Threshold for the SRV: quarantined.

    SEC Threshold Anomaly Detection; DUIS V5.4's schema documents the DCC Alert that follows
    (QuarantinedRequest/ADUserThresholdBreach) but no synchronous response code opendcc could
    confirm, so it is answered with HTTP 429 (too many requests) and no code.
    """

    http_status = HTTPStatus.TOO_MANY_REQUESTS


class ServiceNotImplemented(DuisError):
    """opendcc does not provide this Service Request yet (no DUIS code: HTTP 501)."""

    http_status = HTTPStatus.NOT_IMPLEMENTED


def all_error_classes() -> list[type[DuisError]]:
    """Every concrete DuisError subclass: the table docs/duis.md documents."""
    out: list[type[DuisError]] = []
    stack = list(DuisError.__subclasses__())
    while stack:
        cls = stack.pop(0)
        out.append(cls)
        stack[:0] = cls.__subclasses__()
    return out
