"""GBCS §13.3 CS02b Update Security Credentials, on the device: replacing trust anchors.

The command names its credentialsReplacementMode (GBCS message code 0x0100 + mode) and the
trust anchor cell that authorises it. The device acts on it only if:

- the mode is one it knows, the message code agrees with it, and the authorising cell is the
  one GBCS gives that mode (supplierBySupplier: the supplier's signing cell; supplierByTransCoS:
  the Transitional CoS party's; networkOperatorByNetworkOperator: the network operator's ...);
- it is signed (every CS02b is) by the entity anchored in that cell, under that entity's key,
  with an Originator Counter above every one seen from it, which the payload repeats as the
  authorisingRemotePartySeqNumber.

Otherwise the command is discarded (`NotAuthorised`, recorded in the security log). Then each
replacement certificate is checked: an organisation certificate of the target cell's role and
key usage, all naming one entity, issued (ECDSA signature) by a certificate of the command's
certification path. If one fails, nothing is replaced and the Response says which
(statusCode badCertificate). If all pass, the cells take the new party, its Originator Counter
floor is set (newRemotePartyFloorSeqNumber or otherRemotePartySeqNumberChanges), and the signed
Response lists each replacement: the cell, the old and the new subject and key identifiers.

A command with an executionDateTime is held until then (Response: commandAccepted only) and
raises the signed future-dated alert 0x8F66 (message code 0x00CB) with the outcome when it
runs; one dated 9999-12-31T23:59:59Z cancels the CS02b the device holds.

The emulated devices keep one entity per remote-party role (`devices.security.TrustAnchors`);
the certificate in a role's anchor is the signing one. Time-based certification path checks
are the DCC's (DUIS ApplyTimeBasedCPVChecks): the device does not compare validity dates, and
it holds no Root certificate to check the path's issuer against.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from opendcc.devices.device import Device
from opendcc.devices.errors import NotAuthorised
from opendcc.devices.gbcs.errors import MalformedCommand, UnsupportedUseCase
from opendcc.devices.results import Result, ok
from opendcc.devices.security import CommandHeader, CounterGuard, RemotePartyRole, TrustAnchor
from opendcc.gbcs import codec
from opendcc.gbcs.codec import GbcsMessage
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.payload.asn1 import (
    Asn1Value,
    BitString,
    Enumerated,
    GeneralizedTime,
    Integer,
    Null,
    OctetString,
    Primitive,
    Sequence,
    Tagged,
    decode_asn1,
    encode_value,
)
from opendcc.ids import EUI64
from opendcc.smki.errors import CertificateRejected
from opendcc.smki.profile import CertificateKind, SmkiCertificate, parse_certificate

if TYPE_CHECKING:
    from opendcc.devices.gbcs.endpoint import Answer, DeviceGbcsEndpoint

#: The use case this module serves.
USE_CASE: Final = "CS02b"
#: GBCS message codes of CS02b: 0x0100 + credentialsReplacementMode.
_BASE_CODE: Final = 0x0100
#: Message code of the future-dated CS02b alert (FDA-CS02b), and its alert code.
FDA_CS02B: Final = 0x00CB
FUTURE_DATED_EXECUTION: Final = 0x8F66
#: GBCS remotePartyRole numbers -> the device's roles.
ROLES: Final = {1: RemotePartyRole.RECOVERY, 2: RemotePartyRole.SUPPLIER,
                3: RemotePartyRole.NETWORK_OPERATOR, 4: RemotePartyRole.ACCESS_CONTROL_BROKER,
                5: RemotePartyRole.TRANSITIONAL_COS, 6: RemotePartyRole.WAN_PROVIDER}
_ROLE_NUMBERS: Final = {role: number for number, role in ROLES.items()}
_ANY_BUT_ROOT: Final = frozenset(ROLES.values())


@dataclass(frozen=True, slots=True)
class Mode:
    """One credentialsReplacementMode: who authorises it, which cells it may replace."""

    name: str
    authorising: RemotePartyRole
    targets: frozenset[RemotePartyRole]


#: GBCS §13.3 credentialsReplacementMode -> its authorising cell and target cells. Modes 0-1
#: (Root replacement) and 9 (contingency, under the Root's contingency key) are not emulated.
MODES: Final = {
    2: Mode("supplierBySupplier", RemotePartyRole.SUPPLIER, frozenset({RemotePartyRole.SUPPLIER})),
    3: Mode("networkOperatorByNetworkOperator", RemotePartyRole.NETWORK_OPERATOR,
            frozenset({RemotePartyRole.NETWORK_OPERATOR})),
    4: Mode("acbByACB", RemotePartyRole.ACCESS_CONTROL_BROKER,
            frozenset({RemotePartyRole.ACCESS_CONTROL_BROKER})),
    5: Mode("wanProviderByWanProvider", RemotePartyRole.WAN_PROVIDER,
            frozenset({RemotePartyRole.WAN_PROVIDER})),
    6: Mode("transCoSByTransCoS", RemotePartyRole.TRANSITIONAL_COS,
            frozenset({RemotePartyRole.TRANSITIONAL_COS})),
    7: Mode("supplierByTransCoS", RemotePartyRole.TRANSITIONAL_COS,
            frozenset({RemotePartyRole.SUPPLIER})),
    8: Mode("anyExceptAbnormalRootByRecovery", RemotePartyRole.RECOVERY, _ANY_BUT_ROOT),
}
#: replacementOutcome statusCode values (GBCS ASN.1).
SUCCESS, BAD_CERTIFICATE, OTHER = 0, 5, 127
#: keyUsage BIT STRINGs: digitalSignature (bit 0), keyAgreement (bit 4).
_DS_BITS, _KA_BITS = (7, b"\x80"), (3, b"\x08")
#: executionDateTime of a cancellation.
CANCEL_TIME: Final = "99991231235959Z"


@dataclass(frozen=True, slots=True)
class Replacement:
    """One trustAnchorReplacement: the certificate and the cell it goes in."""

    certificate: bytes
    role_number: int
    usage: str  # "ds" or "ka"
    cell_usage: int | None  # 1: prepayment top-up (a KA cell of its own)


@dataclass(frozen=True, slots=True)
class SeqNumberChange:
    """A remote party's new Originator Counter floor (and specialist floors)."""

    role_number: int
    floor: int
    specialist: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class CredentialsCommand:
    """The parts of an UpdateSecurityCredentialsCommand the device acts on."""

    mode: int
    authorising_role: int | None
    authorising_usage: str | None
    seq_number: int
    changes: tuple[SeqNumberChange, ...]
    replacements: tuple[Replacement, ...]
    path: tuple[bytes, ...]
    execution: str | None  # GeneralizedTime text, when future-dated or cancelling


# ---------------------------------------------------------------------------------------------
# Reading the command (GBCS ASN.1 UpdateSecurityCredentialsCommand).


def _int(octets: bytes) -> int:
    return int.from_bytes(octets, "big", signed=True) if octets else 0


def _usage(value: Asn1Value) -> str | None:
    if isinstance(value, BitString):
        bits = (value.unused_bits, value.octets)
        return "ds" if bits == _DS_BITS else "ka" if bits == _KA_BITS else None
    return None


def _cell(elements: tuple[Asn1Value, ...]) -> tuple[int, str | None, int | None]:
    role = elements[0].value if elements and isinstance(elements[0], Integer) else -1
    usage = _usage(elements[1]) if len(elements) > 1 else None
    cell_usage = elements[2].value if len(elements) > 2 and isinstance(elements[2], Integer) else None
    return role, usage, cell_usage


def _change(value: Asn1Value) -> SeqNumberChange:
    if not isinstance(value, Sequence) or len(value.elements) < 2:
        raise MalformedCommand("remotePartySeqNumberChange is not {role, floor, ...}")
    role, floor = value.elements[0], value.elements[1]
    specialist: list[tuple[int, int]] = []
    if len(value.elements) > 2 and isinstance(value.elements[2], Sequence):
        for item in value.elements[2].elements:
            if isinstance(item, Sequence) and len(item.elements) == 2:
                usage, seq = item.elements
                if isinstance(usage, Integer) and isinstance(seq, Integer):
                    specialist.append((usage.value, seq.value))
    if not isinstance(role, Integer) or not isinstance(floor, Integer):
        raise MalformedCommand("remotePartySeqNumberChange role and floor are INTEGERs")
    return SeqNumberChange(role.value, floor.value, tuple(specialist))


def read_command(content: bytes) -> CredentialsCommand:
    """The UpdateSecurityCredentialsCommand in `content`; `MalformedCommand` if it is not one."""
    try:
        root = decode_asn1(content)
    except Exception as exc:  # any DER the codec cannot read is a malformed command
        raise MalformedCommand(f"CS02b payload is not DER: {exc}") from None
    if not isinstance(root, Sequence) or len(root.elements) < 3 \
            or not all(isinstance(e, Sequence) for e in root.elements[:3]):
        raise MalformedCommand("CS02b payload is not an UpdateSecurityCredentialsCommand")
    control, replacements, path = (e for e in root.elements[:3])
    assert isinstance(control, Sequence) and isinstance(replacements, Sequence) \
        and isinstance(path, Sequence)
    mode_value = control.elements[0] if control.elements else None
    if not isinstance(mode_value, Integer):
        raise MalformedCommand("credentialsReplacementMode missing")
    auth_role: int | None = None
    auth_usage: str | None = None
    seq: int | None = None
    changes: list[SeqNumberChange] = []
    for part in control.elements[1:]:
        tag = getattr(part, "tag_number", None)
        if isinstance(part, Tagged) and tag == 2:
            auth_role, auth_usage, _ = _cell(part.elements)
        elif isinstance(part, Primitive) and tag == 3:
            seq = _int(part.octets)
        elif isinstance(part, Primitive) and tag == 4 and auth_role is not None:
            changes.append(SeqNumberChange(-1, _int(part.octets)))  # the new party's floor
        elif isinstance(part, Tagged) and tag == 6:
            changes += [_change(c) for c in part.elements]
    if seq is None:
        raise MalformedCommand("authorisingRemotePartySeqNumber missing")
    items: list[Replacement] = []
    for item in replacements.elements:
        if not isinstance(item, Sequence) or len(item.elements) != 2 \
                or not isinstance(item.elements[1], Sequence):
            raise MalformedCommand("trustAnchorReplacement is not {certificate, cell}")
        role, usage, cell_usage = _cell(item.elements[1].elements)
        items.append(Replacement(encode_value(item.elements[0]), role, usage or "", cell_usage))
    execution = root.elements[3].value if len(root.elements) > 3 \
        and isinstance(root.elements[3], GeneralizedTime) else None
    return CredentialsCommand(mode_value.value, auth_role, auth_usage, seq, tuple(changes),
                              tuple(items), tuple(encode_value(c) for c in path.elements),
                              execution)


# ---------------------------------------------------------------------------------------------
# Checking the new certificates.


def _issued_by(certificate: x509.Certificate, issuers: list[x509.Certificate]) -> bool:
    for issuer in issuers:
        key = issuer.public_key()
        if certificate.issuer != issuer.subject or not isinstance(key, ec.EllipticCurvePublicKey):
            continue
        try:
            key.verify(certificate.signature, certificate.tbs_certificate_bytes,
                       ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            continue
    return False


def check_replacements(command: CredentialsCommand, mode: Mode) -> list[int]:
    """The statusCode of each replacement (GBCS §13.3): success only for an organisation
    certificate of the target cell's role and key usage, of the one entity the command
    installs, issued by a certificate of the certification path."""
    issuers: list[x509.Certificate] = []
    for der in command.path:
        with contextlib.suppress(ValueError):
            issuers.append(x509.load_der_x509_certificate(der))
    parsed: list[SmkiCertificate | None] = []
    for r in command.replacements:
        try:
            parsed.append(parse_certificate(r.certificate))
        except (CertificateRejected, ValueError):
            parsed.append(None)
    entities = {p.entity for p in parsed if p is not None}
    out: list[int] = []
    for r, cert in zip(command.replacements, parsed, strict=True):
        role = ROLES.get(r.role_number)
        good = (cert is not None and role in mode.targets
                and cert.kind is CertificateKind.ORGANISATION and cert.role == r.role_number
                and cert.usage is not None and cert.usage.value == r.usage
                and len(entities) == 1 and _issued_by(cert.certificate, issuers))
        out.append(SUCCESS if good else BAD_CERTIFICATE)
    if BAD_CERTIFICATE in out:  # all or nothing: the others are not replaced either
        out = [BAD_CERTIFICATE if s == BAD_CERTIFICATE else OTHER for s in out]
    return out


# ---------------------------------------------------------------------------------------------
# Building the Response and alert payloads (GBCS ASN.1 UpdateSecurityCredentialsResponse).


def _ski(certificate: x509.Certificate | None) -> bytes:
    if certificate is None:
        return bytes(8)
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return bytes(8)


def _cell_value(role_number: int, usage: str, cell_usage: int | None) -> Sequence:
    unused, octets = _DS_BITS if usage == "ds" else _KA_BITS
    elements: list[Asn1Value] = [Integer(value=role_number), BitString(unused_bits=unused, octets=octets)]
    if cell_usage is not None:
        elements.append(Integer(value=cell_usage))
    return Sequence(elements=tuple(elements))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one CS02b did: the executionOutcome of the Response or alert."""

    command: CredentialsCommand
    statuses: tuple[int, ...]
    existing: tuple[tuple[bytes, bytes], ...]  # per replacement: subject unique ID, SKI
    replacing: tuple[tuple[bytes, bytes], ...]
    changes: tuple[SeqNumberChange, ...]

    @property
    def success(self) -> bool:
        """Every replacement done."""
        return all(s == SUCCESS for s in self.statuses)

    def value(self) -> Sequence:
        """executionOutcome as DER value."""
        changes: list[Asn1Value] = []
        for c in self.changes:
            parts: list[Asn1Value] = [Integer(value=c.role_number), Integer(value=c.floor)]
            if c.specialist:
                parts.append(Sequence(elements=tuple(
                    Sequence(elements=(Integer(value=u), Integer(value=s))) for u, s in c.specialist)))
            changes.append(Sequence(elements=tuple(parts)))
        outcomes: list[Asn1Value] = []
        for r, status, old, new in zip(self.command.replacements, self.statuses, self.existing,
                                       self.replacing, strict=True):
            outcomes.append(Sequence(elements=(
                _cell_value(r.role_number, r.usage, r.cell_usage), Enumerated(value=status),
                OctetString(value=old[0]), OctetString(value=old[1]),
                OctetString(value=new[0]), OctetString(value=new[1]))))
        return Sequence(elements=(
            Integer(value=self.command.seq_number), Integer(value=self.command.mode),
            Sequence(elements=tuple(changes)), Sequence(elements=tuple(outcomes))))


def _device_lengths(value: Asn1Value) -> Asn1Value:
    """Lengths of 128 octets or more in two octets (0x82 nn nn), as the devices RTDS records
    write them, rather than DER's shortest form."""
    if not isinstance(value, Sequence):
        return value
    inner = dataclasses.replace(value, elements=tuple(_device_lengths(e) for e in value.elements))
    return dataclasses.replace(inner, length_form=2) if len(inner.content()) >= 0x80 else inner


def response_payload(outcome: Outcome | None) -> bytes:
    """UpdateSecurityCredentialsResponse: commandAccepted, and the outcome once executed."""
    elements: list[Asn1Value] = [Null()]
    if outcome is not None:
        elements.append(outcome.value())
    return encode_value(_device_lengths(Sequence(elements=tuple(elements))))


def alert_payload(outcome: Outcome, executed_at: datetime) -> bytes:
    """UpdateSecurityCredentialsAlert: alert code 0x8F66, when it ran, the outcome."""
    when = executed_at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")
    return encode_value(_device_lengths(Sequence(elements=(
        Integer(value=FUTURE_DATED_EXECUTION), GeneralizedTime(value=when), outcome.value()))))


# ---------------------------------------------------------------------------------------------
# The device's side.


def _subject(entity: str | None) -> bytes:
    return bytes(EUI64.parse(entity)) if entity else bytes(8)


class SecurityCredentials:
    """CS02b for a `DeviceGbcsEndpoint`: `answer(msg, now)` like the endpoint's own."""

    def __init__(self, endpoint: DeviceGbcsEndpoint,
                 next_alert_counter: Callable[[Device], int]) -> None:
        self.endpoint = endpoint
        self.next_alert_counter = next_alert_counter

    def answer(self, msg: GbcsMessage, now: datetime) -> Answer:
        """Authenticate, then replace, hold or cancel; the signed Response."""
        from opendcc.devices.gbcs.endpoint import Answer

        apdu = msg.apdu
        command = read_command(apdu.content)
        mode = MODES.get(command.mode)
        if mode is None:
            raise UnsupportedUseCase(f"CS02b credentialsReplacementMode {command.mode} is not emulated")
        _, device = self.endpoint.estate.reach(apdu.recipient.hyphenated)
        self._authenticate(msg, command, mode, device, now)
        outcome: Outcome | None = None
        if command.execution == CANCEL_TIME:
            for pending in device.pending():
                if pending.use_case == USE_CASE:
                    device.cancel(pending.ref, now)
        elif command.execution is not None:
            self._hold(msg, command, mode, device, _when(command.execution))
        else:
            outcome = self.execute(command, mode, device, now)
        response = self._respond(msg, device, response_payload(outcome), now)
        executed = outcome is None or outcome.success
        return Answer(device.id, USE_CASE, executed, [response])

    # -----------------------------------------------------------------------------------------

    def _authenticate(self, msg: GbcsMessage, command: CredentialsCommand, mode: Mode,
                      device: Device, now: datetime) -> None:
        from opendcc.devices.gbcs.endpoint import _GbcsAuthenticator

        apdu = msg.apdu
        originator = apdu.originator.hyphenated
        header = CommandHeader(originator, mode.authorising, apdu.originator_counter,
                               apdu.signed_data(), apdu.signature or b"")
        problem = None
        if apdu.message_code != _BASE_CODE + command.mode:
            problem = (f"message code 0x{apdu.message_code:04X} is not that of "
                       f"credentialsReplacementMode {command.mode}")
        elif ROLES.get(command.authorising_role or -1) is not mode.authorising \
                or command.authorising_usage != "ds":
            problem = f"{mode.name} is authorised by the {mode.authorising.value} signing cell"
        elif not apdu.signature:
            problem = "CS02b must be signed by the authorising remote party"
        elif command.seq_number != apdu.originator_counter:
            problem = (f"authorisingRemotePartySeqNumber {command.seq_number} is not the "
                       f"Originator Counter {apdu.originator_counter}")
        if problem is not None:
            with contextlib.suppress(NotAuthorised):  # logged like every refusal
                device.accept(dataclasses.replace(header, originator=f"refused {originator}"), now)
            raise NotAuthorised(problem)
        acb = device.anchors.get(RemotePartyRole.ACCESS_CONTROL_BROKER)
        acb_id = EUI64.parse(acb.entity) if acb is not None else codec.DEFAULT_ACB
        device.accept(header, now, _GbcsAuthenticator(msg, self.endpoint.keys, acb_id))

    def execute(self, command: CredentialsCommand, mode: Mode, device: Device,
                now: datetime) -> Outcome:
        """Check the certificates; if all pass, replace the cells and set the floors."""
        statuses = check_replacements(command, mode)
        keys = self.endpoint.keys
        existing: list[tuple[bytes, bytes]] = []
        replacing: list[tuple[bytes, bytes]] = []
        new_entity: str | None = None
        for r in command.replacements:
            role = ROLES.get(r.role_number)
            anchor = device.anchors.get(role) if role is not None else None
            old = anchor.entity if anchor is not None else None
            usage: Literal["ds", "ka"] = "ds" if r.usage == "ds" else "ka"
            old_cert = keys.certificate(EUI64.parse(old), usage, pp=r.cell_usage == 1) \
                if old else None
            existing.append((_subject(old), _ski(old_cert)))
            try:
                cert = parse_certificate(r.certificate)
                entity = cert.entity.hyphenated if cert.entity else None
                replacing.append((_subject(entity), _ski(cert.certificate)))
                new_entity = new_entity or entity
            except (CertificateRejected, ValueError):
                replacing.append((bytes(8), bytes(8)))
        changes: tuple[SeqNumberChange, ...] = ()
        if all(s == SUCCESS for s in statuses) and new_entity is not None:
            targets = {ROLES[r.role_number] for r in command.replacements}
            anchors = device.anchors
            for role in targets:
                ds = next((r.certificate for r in command.replacements
                           if ROLES[r.role_number] is role and r.usage == "ds"), None)
                anchors = anchors.with_anchor(role, TrustAnchor(new_entity, ds))
            device.anchors = anchors
            changes = self._floors(command, targets, new_entity, device)
        return Outcome(command, tuple(statuses), tuple(existing), tuple(replacing), changes)

    @staticmethod
    def _floors(command: CredentialsCommand, targets: set[RemotePartyRole], entity: str,
                device: Device) -> tuple[SeqNumberChange, ...]:
        """The new party's Originator Counter floor (GBCS §13.3): commands from it must
        carry a counter above it."""
        role = min(targets, key=lambda r: _ROLE_NUMBERS[r]) if targets else None
        number = _ROLE_NUMBERS.get(role) if role is not None else None
        changes = tuple(dataclasses.replace(c, role_number=number) if c.role_number == -1
                        and number is not None else c for c in command.changes)
        guard = device.counters or CounterGuard()
        for change in changes:
            if change.role_number == number:
                guard.record(entity, change.floor)
        device.counters = guard
        return changes

    def _hold(self, msg: GbcsMessage, command: CredentialsCommand, mode: Mode, device: Device,
              at: datetime) -> None:
        """GBCS §7.2.10: run at `at`, then alert the originator with the outcome."""
        apdu = msg.apdu
        ref = f"{apdu.originator.hyphenated}:{apdu.originator_counter}"

        def run(d: Any, t: datetime) -> Result[Outcome]:
            outcome = self.execute(command, mode, d, t)
            self._alert(d, apdu.originator, outcome, t)
            return ok(outcome, t)

        self.endpoint.estate.schedule(device.id, ref, USE_CASE, at, run, alert=False)  # `_alert`

    def _alert(self, device: Device, to: EUI64, outcome: Outcome, at: datetime) -> None:
        apdu = GeneralSigning(CraFlag.ALERT, self.next_alert_counter(device), device.eui, to,
                              None, OtherInformation(FDA_CS02B),
                              alert_payload(outcome, device.device_time(at)), bytes(64))
        octets = bytes(codec.sign_apdu(apdu, self.endpoint.keys))
        if self.endpoint.alert_sink is not None:
            self.endpoint.alert_sink(octets)
        else:
            self.endpoint.alerts.append(octets)

    def _respond(self, msg: GbcsMessage, device: Device, content: bytes, now: datetime) -> bytes:
        cmd = msg.apdu
        other = OtherInformation(cmd.message_code, cmd.other_information.remote_party_id,
                                 cmd.other_information.remote_party_counter)
        stamp = DateTime.from_datetime(device.device_time(now))
        apdu = GeneralSigning(CraFlag.RESPONSE, cmd.originator_counter, device.eui,
                              cmd.originator, stamp, other, content, bytes(64))
        return bytes(codec.sign_apdu(apdu, self.endpoint.keys))


def _when(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise MalformedCommand(f"executionDateTime {text!r} is not a GeneralizedTime") from None
