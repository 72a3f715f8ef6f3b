"""DUIS responses for SMETS1 devices (DUIS 5.4 `SMETS1ResponseMessage`); pure, no I/O.

The S1SP answers in MMC form (`SMETS1Response`: an `ra:HeaderType` header and an
`ra:ResponsePayload` body, as Parse and Correlate renders a GBCS response) and signs it as
`SMETS1SignedResponse`; the DCC wraps that in its own `sr:Response` and signs the whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from opendcc.client.mmc import document
from opendcc.client.mmc.builders import smets_data_of
from opendcc.client.mmc.document import MmcHeader, SmetsValues
from opendcc.duis.request import SR
from opendcc.duis.response import SCHEMA_VERSION, format_datetime
from opendcc.duis.response_codes import ResponseCode
from opendcc.duis.xmldsig import DS, sign
from opendcc.ids import EUI64

RA = "http://www.dccinterface.co.uk/ResponseAndAlert"
_NSMAP: Final = {"sr": SR, "ra": RA, "ds": DS}


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


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

# How a provider's one value becomes MMC text (its conversion name in VALUE_PATHS).
_CONVERSIONS: Final[dict[str, Callable[[int], str]]] = {
    "int": str,
    "milli": lambda v: f"{v / 1000:.3f}",  # gas registers come in thousandths of m3
    "supply": lambda v: SUPPLY_STATE_NAMES.get(v, "Enabled"),
}

# SRV variant -> fuel -> (element path under the SRV's SMETSData element, conversion or
# "=literal"), in the path language of Parse and Correlate's field specs (client/mmc/tables.json).
VALUE_PATHS: Final[dict[str, dict[str, tuple[tuple[str, str], ...]]]] = {
    "4.1.1": {
        "E": (("Electricity/ActiveImportRegister/Value", "int"),
              ("Electricity/ActiveImportRegister/ActiveEnergyUnit", "=Wh")),
        "G": (("Gas/ConsumptionRegister/Value", "milli"), ("Gas/ConsumptionRegister/Unit", "=m3")),
    },
    "7.4": {"E": (("SupplyState", "supply"),), "G": (("SupplyState", "supply"),)},
}


def smets_values(outcome: Smets1Outcome, fuel: str) -> SmetsValues:
    """The SRV's MMC SMETSData values for what the SMETS1 device returned."""
    if not outcome.success or outcome.value is None:
        return SmetsValues(outcome.variant, outcome.success)
    value = outcome.value
    leaves = tuple(
        (path, how[1:] if how.startswith("=") else _CONVERSIONS[how](value))
        for path, how in VALUE_PATHS.get(outcome.variant, {}).get(fuel, ()))
    return SmetsValues(outcome.variant, True, leaves)


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
    # The same MMC Header and ResponsePayload as Parse and Correlate's ra:GBCSResponse
    # (DUIS 5.4 SMETS1ResponseType), without GBCSData: a SMETS1 device sends no GBCS.
    header = MmcHeader(outcome.device_id, outcome.user_id, outcome.counter,
                       srv=outcome.variant, timestamp=now)
    document.response_parts(response, SR, header,
                            smets=smets_data_of(smets_values(outcome, fuel)))
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
