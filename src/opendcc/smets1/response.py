"""DUIS responses for SMETS1 devices (DUIS 5.4 `SMETS1ResponseMessage`); pure, no I/O.

The S1SP answers in MMC form (`SMETS1Response`: an `ra:HeaderType` header and an
`ra:ResponsePayload` body, as Parse and Correlate renders a GBCS response) and signs it as
`SMETS1SignedResponse`; the DCC wraps that in its own `sr:Response` and signs the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from opendcc.duis.request import SR
from opendcc.duis.response import SCHEMA_VERSION, format_datetime
from opendcc.duis.response_codes import ResponseCode
from opendcc.duis.xmldsig import DS, sign
from opendcc.ids import EUI64

RA = "http://www.dccinterface.co.uk/ResponseAndAlert"
_NSMAP: Final = {"sr": SR, "ra": RA, "ds": DS}


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


def _ra(name: str) -> str:
    return f"{{{RA}}}{name}"


@dataclass(frozen=True, slots=True)
class S1SPSigner:
    """The SMETS1 service provider's XML signing credential."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True, slots=True)
class Smets1Outcome:
    """What a SMETS1 device returned for one SRV, before rendering."""

    variant: str
    device_id: EUI64
    user_id: EUI64
    counter: int
    success: bool
    value: int | None = None  # register reading (Wh / gas units), supply state, price


SUPPLY_STATE_NAMES: Final = {0: "Disabled", 1: "Enabled", 2: "Armed"}


def _smets_data(outcome: Smets1Outcome, fuel: str, payload: etree._Element) -> None:
    """The per-SRV `SMETSData` element (MMC schema) for the variants SMETS1 adapters serve."""
    name = RSP_ELEMENT[outcome.variant]
    data = etree.SubElement(etree.SubElement(payload, _ra("SMETSData")), _ra(name))
    data.set("MessageSuccess", "true" if outcome.success else "false")
    if not outcome.success or outcome.value is None:
        return
    if outcome.variant == "4.1.1":
        if fuel == "G":
            register = etree.SubElement(etree.SubElement(data, _ra("Gas")), _ra("ConsumptionRegister"))
            etree.SubElement(register, _ra("Value")).text = f"{outcome.value / 1000:.3f}"
            etree.SubElement(register, _ra("Unit")).text = "m3"
        else:
            register = etree.SubElement(etree.SubElement(data, _ra("Electricity")), _ra("ActiveImportRegister"))
            etree.SubElement(register, _ra("Value")).text = str(outcome.value)
            etree.SubElement(register, _ra("ActiveEnergyUnit")).text = "Wh"
    elif outcome.variant == "7.4":
        etree.SubElement(data, _ra("SupplyState")).text = SUPPLY_STATE_NAMES.get(outcome.value, "Enabled")


# SRV variant -> the MMC response element that carries its SMETSData.
RSP_ELEMENT: Final = {
    "4.1.1": "ReadInstantaneousImportRegistersRsp",
    "1.1.1": "UpdateImportTariffPrimaryElementRsp",
    "1.2.1": "UpdatePricePrimaryElementRsp",
    "7.1": "EnableSupplyRsp",
    "7.2": "DisableSupplyRsp",
    "7.3": "ArmSupplyRsp",
    "7.4": "ReadSupplyStatusRsp",
}


def service_reference(variant: str) -> str:
    """The Service Reference of a variant ("4.1.1" -> "4.1"; two-part variants are their own)."""
    parts = variant.split(".")
    return ".".join(parts[:2])


def signed_response(outcome: Smets1Outcome, fuel: str, signer: S1SPSigner,
                    now: datetime) -> etree._Element:
    """`SMETS1SignedResponse`: the MMC-form answer, enveloped-signed by the S1SP."""
    root = etree.Element(_sr("SMETS1SignedResponse"), nsmap=_NSMAP)
    root.set("schemaVersion", SCHEMA_VERSION)
    response = etree.SubElement(root, _sr("SMETS1Response"))
    header = etree.SubElement(response, _sr("Header"))
    etree.SubElement(header, _ra("BusinessOriginatorID")).text = outcome.device_id.hyphenated
    etree.SubElement(header, _ra("BusinessTargetID")).text = outcome.user_id.hyphenated
    etree.SubElement(header, _ra("OriginatorCounter")).text = str(outcome.counter)
    etree.SubElement(header, _ra("ServiceReference")).text = service_reference(outcome.variant)
    etree.SubElement(header, _ra("ServiceReferenceVariant")).text = outcome.variant
    etree.SubElement(header, _ra("Timestamp")).text = format_datetime(now)
    payload = etree.SubElement(etree.SubElement(response, _sr("Body")), _sr("ResponseMessage"))
    _smets_data(outcome, fuel, payload)
    return sign(root, signer.private_key, signer.certificate)


def smets1_response(request_id: str, code: ResponseCode, variant: str, signed: etree._Element,
                    now: datetime) -> etree._Element:
    """The DCC's unsigned `sr:Response` carrying a `SMETS1ResponseMessage` (DUIS 5.4 §3.5)."""
    root = etree.Element(_sr("Response"), nsmap=_NSMAP)
    root.set("schemaVersion", SCHEMA_VERSION)
    header = etree.SubElement(root, _sr("Header"))
    etree.SubElement(header, _sr("RequestID")).text = request_id
    etree.SubElement(header, _sr("ResponseCode")).text = code.value
    etree.SubElement(header, _sr("ResponseDateTime")).text = format_datetime(now)
    message = etree.SubElement(etree.SubElement(root, _sr("Body")), _sr("SMETS1ResponseMessage"))
    etree.SubElement(message, _sr("ServiceReference")).text = service_reference(variant)
    etree.SubElement(message, _sr("ServiceReferenceVariant")).text = variant
    message.append(signed)
    return root
