"""Names for GBCS's ASN.1 payloads (CS02a-e, CS03, CS04, CS06, CS07, CS08, CCS08,
GCS28, GCS59, GCS62), laid over the generic DER tree of `asn1`.

The structures are data: each `Shape` says which DER value is expected (universal or
context tag), its name, and for SEQUENCE / SEQUENCE OF / CHOICE what it holds. A decoded tree
that fits one of the use case's shapes gets its values named; one that fits none stays as
it is (never half-named). Naming never changes the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from opendcc.gbcs.payload.asn1 import (
    Asn1Value,
    BitString,
    Enumerated,
    Integer,
    Primitive,
    Sequence,
    Tagged,
)

UNIVERSAL, CONTEXT = 0, 2
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, ENUMERATED, SEQUENCE, GENERALIZED_TIME = (
    1, 2, 3, 4, 5, 10, 16, 24)


@dataclass(frozen=True)
class Shape:
    """One expected DER value: `kind` is "value", "sequence", "sequence-of", "any" or "choice"."""

    name: str
    kind: str
    tag: tuple[int, int] | None = (UNIVERSAL, SEQUENCE)  # (class, number); None: any tag
    fields: tuple[Shape, ...] = ()  # sequence: members in order; choice: alternatives
    element: Shape | None = None  # sequence-of
    optional: bool = False


def value(name: str, number: int, *, context: int | None = None, optional: bool = False) -> Shape:
    """A primitive: universal type `number`, or IMPLICIT [context] when given."""
    tag = (CONTEXT, context) if context is not None else (UNIVERSAL, number)
    return Shape(name, "value", tag, optional=optional)


def sequence(name: str, *fields: Shape, context: int | None = None,
             optional: bool = False) -> Shape:
    tag = (CONTEXT, context) if context is not None else (UNIVERSAL, SEQUENCE)
    return Shape(name, "sequence", tag, fields, optional=optional)


def sequence_of(name: str, element: Shape, *, context: int | None = None,
                optional: bool = False) -> Shape:
    tag = (CONTEXT, context) if context is not None else (UNIVERSAL, SEQUENCE)
    return Shape(name, "sequence-of", tag, element=element, optional=optional)


def choice(name: str, *alternatives: Shape) -> Shape:
    return Shape(name, "choice", None, alternatives)


def certificate(name: str, *, optional: bool = False) -> Shape:
    """An X.509 certificate (or certification request): kept whole, named only."""
    return Shape(name, "any", (UNIVERSAL, SEQUENCE), optional=optional)


# --- types GBCS uses in several structures ----------------------------------------------


def remote_party_role(name: str = "remotePartyRole") -> Shape:
    return value(name, INTEGER)


def key_usage() -> Shape:
    return value("keyUsage", BIT_STRING)


def trust_anchor_cell_identifier(name: str, *, context: int | None = None,
                                 optional: bool = False) -> Shape:
    return sequence(name, remote_party_role(), key_usage(),
                    value("cellUsage", INTEGER, optional=True),
                    context=context, optional=optional)


def alert_code() -> Shape:
    return value("alertCode", INTEGER)


def execution_date_time(*, optional: bool = False) -> Shape:
    return value("executionDateTime", GENERALIZED_TIME, optional=optional)


SPECIALIST_SEQ_NUMBER = sequence("specialistSeqNumber", value("seqNumberUsage", INTEGER),
                                 value("seqNumber", INTEGER))
REMOTE_PARTY_SEQ_NUMBER_CHANGE = sequence(
    "remotePartySeqNumberChange", remote_party_role(), value("floorSeqNumber", INTEGER),
    sequence_of("specialistFloorSeqNumber", SPECIALIST_SEQ_NUMBER, optional=True))
DEVICE_LOG_ENTRY = sequence("deviceLogEntry", value("deviceID", OCTET_STRING),
                            value("deviceType", INTEGER))
UPDATE_SECURITY_CREDENTIALS_OUTCOME = sequence(
    "executionOutcome",
    value("authorisingRemotePartySeqNumber", INTEGER),
    value("credentialsReplacementMode", INTEGER),
    sequence_of("remotePartySeqNumberChanges", REMOTE_PARTY_SEQ_NUMBER_CHANGE),
    sequence_of("replacementOutcomes", sequence(
        "replacementOutcome",
        trust_anchor_cell_identifier("affectedTrustAnchorCell"),
        value("statusCode", ENUMERATED),
        value("existingSubjectUniqueID", OCTET_STRING),
        value("existingSubjectKeyIdentifier", OCTET_STRING),
        value("replacingSubjectUniqueID", OCTET_STRING),
        value("replacingSubjectKeyIdentifier", OCTET_STRING))))
ACTIVATE_FIRMWARE_OUTCOME = sequence("executionOutcome", value("responseCode", INTEGER),
                                     value("firmwareVersion", OCTET_STRING))

#: use case (or its leading part) -> the shapes its payloads may have: command, response, alert
SHAPES: dict[str, tuple[Shape, ...]] = {
    "CS02a": (
        sequence("ProvideSecurityCredentialDetailsCommand",
                 trust_anchor_cell_identifier("authorisingRemotePartyTACellIdentifier"),
                 sequence_of("remotePartyRolesCredentialsRequired", remote_party_role())),
        sequence_of("ProvideSecurityCredentialDetailsResponse", sequence(
            "remotePartyDetails", remote_party_role(), value("statusCode", ENUMERATED),
            value("currentSeqNumber", INTEGER, optional=True),
            sequence_of("trustAnchorCellDetails", sequence(
                "trustAnchorCellContents", key_usage(),
                value("cellUsage", INTEGER, optional=True),
                value("subjectUniqueID", OCTET_STRING),
                value("subjectKeyIdentifier", OCTET_STRING)), optional=True))),
    ),
    "CS02b": (
        sequence("UpdateSecurityCredentialsCommand",
                 sequence("authorisingRemotePartyControl",
                          value("credentialsReplacementMode", INTEGER),
                          value("plaintextSymmetricKey", OCTET_STRING, context=0, optional=True),
                          value("applyTimeBasedCPVChecks", INTEGER, context=1, optional=True),
                          trust_anchor_cell_identifier(
                              "authorisingRemotePartyTACellIdentifier", context=2,
                              optional=True),
                          value("authorisingRemotePartySeqNumber", INTEGER, context=3),
                          value("newRemotePartyFloorSeqNumber", INTEGER, context=4,
                                optional=True),
                          sequence_of("newRemotePartySpecialistFloorSeqNumber",
                                      SPECIALIST_SEQ_NUMBER, context=5, optional=True),
                          sequence_of("otherRemotePartySeqNumberChanges",
                                      REMOTE_PARTY_SEQ_NUMBER_CHANGE, context=6,
                                      optional=True)),
                 sequence_of("replacements", sequence(
                     "trustAnchorReplacement", certificate("replacementCertificate"),
                     trust_anchor_cell_identifier("targetTrustAnchorCell"))),
                 sequence_of("certificationPathCertificates", certificate("certificate")),
                 execution_date_time(optional=True)),
        sequence("UpdateSecurityCredentialsResponse", value("commandAccepted", NULL),
                 replace(UPDATE_SECURITY_CREDENTIALS_OUTCOME, optional=True)),
        sequence("UpdateSecurityCredentialsAlert", alert_code(), execution_date_time(),
                 UPDATE_SECURITY_CREDENTIALS_OUTCOME),
    ),
    "CS02c": (
        sequence("IssueSecurityCredentialsCommand", key_usage()),
        choice("IssueSecurityCredentialsResponse", certificate("certificationRequest"),
               value("responseCode", INTEGER)),
    ),
    "CS02d": (
        certificate("UpdateDeviceCertificateCommand"),
        value("UpdateDeviceCertificateResponse", INTEGER),
    ),
    "CS02e": (
        sequence("ProvideDeviceCertificateCommand", key_usage()),
        choice("ProvideDeviceCertificateResponse", certificate("deviceCertificate"),
               value("responseCode", INTEGER)),
    ),
    "CS03": (
        sequence("JoinDeviceCommand", value("joinMethodAndRole", INTEGER),
                 value("entityID", OCTET_STRING), value("deviceType", INTEGER),
                 certificate("otherDeviceCertificate", optional=True)),
        value("JoinDeviceResponse", INTEGER),
    ),
    "CS04": (
        value("UnjoinDeviceCommand", OCTET_STRING),
        value("UnjoinDeviceResponse", INTEGER),
    ),
    "CS06": (
        sequence("ActivateFirmwareCommand", value("manufacturerImageHash", OCTET_STRING),
                 value("originatorCounter", INTEGER), execution_date_time(optional=True)),
        choice("ActivateFirmwareResponse", value("commandAccepted", NULL),
               ACTIVATE_FIRMWARE_OUTCOME),
        sequence("ActivateFirmwareAlert", alert_code(), execution_date_time(),
                 value("originatorCounter", INTEGER), ACTIVATE_FIRMWARE_OUTCOME),
    ),
    "CS07": (
        value("ReadDeviceJoinDetailsCommand", NULL),
        sequence("ReadDeviceJoinDetailsResponse", value("responseCode", INTEGER),
                 sequence_of("deviceLogEntries", DEVICE_LOG_ENTRY, optional=True)),
    ),
    "CCS08": (
        sequence("FirmwareTransferAlert", alert_code(), execution_date_time(),
                 value("entityID", OCTET_STRING), value("firmwareVersion", OCTET_STRING),
                 value("responseCode", INTEGER)),
    ),
    "CS08": (
        value("ReadFirmwareVersionCommand", NULL),
        sequence("ReadFirmwareVersionResponse", value("firmwareVersion", OCTET_STRING),
                 value("responseCode", INTEGER)),
        sequence("ReadFirmwareVersionAlert", alert_code(), execution_date_time(),
                 value("firmwareVersion", OCTET_STRING), value("activateImage", INTEGER)),
    ),
    "GCS28": (
        sequence("SetTimeCommand", value("validityIntervalStart", GENERALIZED_TIME),
                 value("validityIntervalEnd", GENERALIZED_TIME)),
        sequence("SetTimeResponse", value("deviceTime", GENERALIZED_TIME),
                 value("deviceTimeStatus", INTEGER)),
    ),
    "GCS59": (
        sequence("GPFDeviceLogRestoreCommand", sequence_of("deviceLogEntries", DEVICE_LOG_ENTRY)),
        sequence("GPFDeviceLogRestoreResponse", sequence_of("restoreOutcomes", sequence(
            "restoreOutcome", DEVICE_LOG_ENTRY, value("joinResponseCode", INTEGER)))),
    ),
    "GCS62": (
        sequence("GPFDeviceLogBackupAlert", alert_code(), value("backupDateTime", GENERALIZED_TIME),
                 sequence_of("deviceLogEntries", DEVICE_LOG_ENTRY)),
    ),
}
# Future-dated alerts of CS02b and CS06 (message codes 0x00CB, 0x00CA) carry the alert shapes.
SHAPES["FDA-CS02b"] = SHAPES["CS02b"][2:]
SHAPES["FDA-CS06"] = SHAPES["CS06"][2:]

#: named value -> meanings of its numbers (GBCS's ASN.1 definitions)
MEANINGS: dict[str, dict[int, str]] = {
    "remotePartyRole": {0: "root", 1: "recovery", 2: "supplier", 3: "networkOperator",
                        4: "accessControlBroker", 5: "transitionalCoS", 6: "wanProvider",
                        7: "issuingAuthority", 127: "other"},
    "credentialsReplacementMode": {
        2: "supplierBySupplier", 3: "networkOperatorByNetworkOperator", 4: "acbByACB",
        5: "wanProviderByWanProvider", 6: "transCoSByTransCoS", 7: "supplierByTransCoS",
        8: "anyExceptAbnormalRootByRecovery", 9: "anyByContingency"},
    "statusCode": {0: "success", 5: "badCertificate", 10: "noTrustAnchor",
                   17: "insufficientMemory", 25: "trustAnchorNotFound", 30: "resourcesBusy",
                   127: "other"},
    "cellUsage": {0: "management", 1: "prePaymentTopUp"},
    "deviceType": {0: "GSME", 1: "ESME", 2: "CHF", 3: "GPF", 4: "HCALCS", 5: "PPMID",
                   6: "type2"},
    "joinMethodAndRole": {0: "methodAInitiator", 1: "methodAResponder", 2: "methodB",
                          3: "methodC"},
    "deviceTimeStatus": {0: "reliable", 1: "invalid", 2: "unreliable"},
    "applyTimeBasedCPVChecks": {0: "apply", 1: "disapply"},
    "seqNumberUsage": {0: "prePaymentTopUp"},
}
KEY_USAGE_BITS = ("digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                  "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly")


def shapes_for(use_case: str | None) -> tuple[Shape, ...]:
    """The shapes of a use case's payloads (found by its code or the code's leading part)."""
    if not use_case:
        return ()
    keys = [k for k in SHAPES if use_case.startswith(k)]
    return SHAPES[max(keys, key=len)] if keys else ()


def _fits_tag(node: Asn1Value, shape: Shape) -> bool:
    if shape.tag is None:
        return True
    tag_class, _constructed, number = node.identifier()
    return (tag_class, number) == shape.tag


def fit(node: Asn1Value, shape: Shape) -> Asn1Value | None:
    """The node with its values named after the shape, or None if it does not fit."""
    if shape.kind == "choice":
        for alternative in shape.fields:
            candidate = fit(node, alternative)
            if candidate is not None:
                return candidate
        return None
    if not _fits_tag(node, shape):
        return None
    constructed = node.identifier()[1]
    if shape.kind in ("value", "any"):
        if shape.kind == "value" and constructed and not isinstance(node, Primitive):
            return None
        return replace(node, name=shape.name)
    if not isinstance(node, Sequence | Tagged):
        return None
    if shape.kind == "sequence-of":
        assert shape.element is not None
        elements = [fit(e, shape.element) for e in node.elements]
        if any(e is None for e in elements):
            return None
        return replace(node, name=shape.name, elements=tuple(e for e in elements if e))
    named: list[Asn1Value] = []
    rest = list(node.elements)
    for member in shape.fields:
        matched = fit(rest[0], member) if rest else None
        if matched is not None:
            named.append(matched)
            rest.pop(0)
        elif not member.optional:
            return None
    if rest:
        return None
    return replace(node, name=shape.name, elements=tuple(named))


def name_values(tree: Asn1Value, use_case: str | None) -> Asn1Value:
    """The tree named after the first of the use case's shapes it fits; else unchanged."""
    for shape in shapes_for(use_case):
        named = fit(tree, shape)
        if named is not None:
            return named
    return tree


def value_notes(node: Asn1Value) -> dict[str, str]:
    """Meanings of named values: enumerations, key usage bits, implicitly tagged integers."""
    if node.name is None:
        return {}
    out: dict[str, str] = {}
    number: int | None = None
    if isinstance(node, Integer | Enumerated):
        number = node.value
    elif isinstance(node, Primitive) and node.tag_class == "context" and 0 < len(node.octets) <= 8:
        number = int.from_bytes(node.octets, "big", signed=True)
        out["integer"] = str(number)
    if number is not None and node.name in MEANINGS and number in MEANINGS[node.name]:
        out["meaning"] = MEANINGS[node.name][number]
    if isinstance(node, BitString) and node.name == "keyUsage":
        bits = int.from_bytes(node.octets, "big") if node.octets else 0
        width = 8 * len(node.octets)
        out["meaning"] = " ".join(
            name for i, name in enumerate(KEY_USAGE_BITS) if i < width and bits >> (width - 1 - i) & 1)
    return out
