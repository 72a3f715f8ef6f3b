"""Authored command forms for use cases of security credentials (CS02 family: trust anchors,
change of supplier) that have no RTDS vector.

GBCS 13.3 CS02b Update Security Credentials with credentialsReplacementMode supplierBySupplier
(message code 0x0102): the supplier replaces its own anchors, authorised by its signing cell.

- SRV 6.15.1 Update Security Credentials (KRP) with RemotePartyRole Supplier, critical: the
  supplier signs the Pre-Command; immediate, future-dated (the payload's executionDateTime) or a
  cancellation (executionDateTime 9999-12-31T23:59:59Z).
- SRV 6.21 Request Handover of DCC Controlled Device with RemotePartyRole Supplier: the DCC,
  holding the supplier cell, originates and signs it (`core.transform.dcc_originated`).

The payload is GBCS's ASN.1 UpdateSecurityCredentialsCommand: the authorising cell (supplier,
digitalSignature), the sequence number (the Originator Counter, set when the command is built),
the new party's Originator Counter floor and its prepayment top-up floor, one
trustAnchorReplacement per certificate (signing, key agreement, and key agreement for
prepayment top-up: cellUsage prePaymentTopUp), the certification path. Certificates are bound
from the request (`der-asn1`); the skeleton holds empty placeholders for them.
"""

from __future__ import annotations

from typing import Any

SUPPLIER, DIGITAL_SIGNATURE, KEY_AGREEMENT = 2, ("80", 7), ("08", 3)
SUPPLIER_BY_SUPPLIER = 2
PREPAYMENT_TOP_UP = 1
_DEVICES = ["ESME", "GSME", "GPF", "CHF"]
_DATING_NAMES = {"immediate": "IMMEDIATE", "future": "FUTURE_DATED", "cancel": "CANCELLATION"}


def _integer(name: str, value: int) -> dict[str, Any]:
    return {"@type": "INTEGER", "name": name, "value": value}


def _cell(name: str, role: int, usage: tuple[str, int], cell_usage: int | None = None,
          ) -> dict[str, Any]:
    elements = [_integer("remotePartyRole", role),
                {"@type": "BIT STRING", "name": "keyUsage", "unused_bits": usage[1],
                 "octets": usage[0]}]
    if cell_usage is not None:
        elements.append(_integer("cellUsage", cell_usage))
    return {"@type": "SEQUENCE", "name": name, "elements": elements}


def _placeholder(name: str) -> dict[str, Any]:
    """Where a certificate from the request goes."""
    return {"@type": "SEQUENCE", "name": name, "elements": []}


def _payload(dated: bool) -> dict[str, Any]:
    control = {"@type": "SEQUENCE", "name": "authorisingRemotePartyControl", "elements": [
        _integer("credentialsReplacementMode", SUPPLIER_BY_SUPPLIER),
        {**_cell("authorisingRemotePartyTACellIdentifier", SUPPLIER, DIGITAL_SIGNATURE),
         "@type": "tagged", "tag_class": "context", "tag_number": 2},
        {"@type": "primitive", "name": "authorisingRemotePartySeqNumber", "tag_class": "context",
         "tag_number": 3, "octets": "00"},
        {"@type": "primitive", "name": "newRemotePartyFloorSeqNumber", "tag_class": "context",
         "tag_number": 4, "octets": "00"},
        {"@type": "tagged", "name": "newRemotePartySpecialistFloorSeqNumber",
         "tag_class": "context", "tag_number": 5, "elements": [
             {"@type": "SEQUENCE", "name": "specialistSeqNumber", "elements": [
                 _integer("seqNumberUsage", 0), _integer("seqNumber", 0)]}]},
    ]}
    replacements = {"@type": "SEQUENCE", "name": "replacements", "elements": [
        {"@type": "SEQUENCE", "name": "trustAnchorReplacement", "elements": [
            _placeholder("replacementCertificate"),
            _cell("targetTrustAnchorCell", SUPPLIER, usage, cell_usage)]}
        for usage, cell_usage in ((DIGITAL_SIGNATURE, None), (KEY_AGREEMENT, None),
                                  (KEY_AGREEMENT, PREPAYMENT_TOP_UP))]}
    path = {"@type": "SEQUENCE", "name": "certificationPathCertificates",
            "elements": [_placeholder("certificate")]}
    elements: list[Any] = [control, replacements, path]
    if dated:
        elements.append({"@type": "GeneralizedTime", "name": "executionDateTime",
                         "value": "99991231235959Z"})
    return {"@type": "SEQUENCE", "name": "UpdateSecurityCredentialsCommand", "elements": elements}


def _form(name: str, srv: str, certificates: str, dating: str) -> dict[str, Any]:
    """One supplierBySupplier form; `certificates`: the body path holding the three."""
    bind: list[list[Any]] = [
        [["elements", 0, "elements", 3, "octets"], "RemotePartyFloorSeqNumber", "uint8-hex"],
        [["elements", 0, "elements", 4, "elements", 0, "elements", 1, "value"],
         "RemotePartyPrepaymentTopUpFloorSeqNumber", "int"],
        [["elements", 1, "elements", 0, "elements", 0], f"{certificates}/DigitalSigningCertificate",
         "der-asn1"],
        [["elements", 1, "elements", 1, "elements", 0], f"{certificates}/KeyAgreementCertificate",
         "der-asn1"],
        [["elements", 1, "elements", 2, "elements", 0],
         f"{certificates}/KeyAgreementTopUpCertificate", "der-asn1"],
        [["elements", 2, "elements", 0], "CertificationPathCertificates/Certificate", "der-asn1"],
    ]
    if dating != "immediate":
        bind.append([["elements", 3, "value"], "ExecutionDateTime", "asn1-time"])
    paths = ["RemotePartyRole", "RemotePartyFloorSeqNumber",
             "RemotePartyPrepaymentTopUpFloorSeqNumber", "ApplyTimeBasedCPVChecks",
             "CertificationPathCertificates/Certificate",
             *(f"{certificates}/{c}Certificate"
               for c in ("DigitalSigning", "KeyAgreement", "KeyAgreementTopUp"))]
    if dating != "immediate":
        paths.append("ExecutionDateTime")
    return {
        "name": f"{name} {srv} {_DATING_NAMES[dating]}_SUCCESS", "use_case": "CS02b", "srv": srv,
        "message_code": f"{0x0100 + SUPPLIER_BY_SUPPLIER:04X}", "devices": _DEVICES,
        "dating": dating, "exact": True, "learned": True, "roles": [SUPPLIER],
        "when": {"RemotePartyRole": "Supplier", "ApplyTimeBasedCPVChecks": "true"},
        "paths": paths, "payload": _payload(dating != "immediate"), "bind": bind,
    }


def forms() -> list[dict[str, Any]]:
    """The authored forms of this family, as raw table data (`tables._form`)."""
    krp = "ReplacementCertificates/SupplierOrNetworkOperatorCertificates"
    return [*(_form("CS02bSupplierBySupplier", "6.15.1", krp, d)
              for d in ("immediate", "future", "cancel")),
            _form("CS02bSupplierBySupplierHandover", "6.21", "ReplacementCertificates",
                  "immediate")]
