"""The device side of GBCS: command octets in, Response octets out.

GBCS §6-§7 from the device's seat: read the Command (General Signing inside a MAC Header,
or signed alone when critical), check that it comes from a remote party the device trusts
(its trust anchors, GBCS §6.2), that the ACB's MAC or the remote party's signature verifies
with the device's keys, and that the Originator Counter is above every one seen from that
party (GBCS §4.3.2, replay refused). Then run the use case's operation (`use_cases.py`) with
the arguments read from the payload (`arguments.py`) and answer with the Response GBCS
specifies for it (`templates.py` structure, `values.py` values): same Originator Counter and
message code, addressed back to the originator, supplementary remote party fields echoed,
MACed by the device for the recipient or, when the command was critical, signed with the
device's DS key.

A command that fails authentication or cannot be delivered on the HAN is discarded (the
device's security log records an authentication failure) and `handle` raises; a command
the device authenticates and then refuses is answered with the failure Response.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from opendcc.clock import Clock
from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import CommandRefused, InvalidArgument, NotAuthorised
from opendcc.devices.estate import Estate
from opendcc.devices.events import Alert, Recipient
from opendcc.devices.gbcs.alerts import HeldCommand, alert_apdu, general_alert_apdu
from opendcc.devices.gbcs.arguments import CommandContext, arguments
from opendcc.devices.gbcs.authored_gas_hub import ANY_DEVICE_TYPE, future_dated_alerts
from opendcc.devices.gbcs.credentials import SecurityCredentials
from opendcc.devices.gbcs.dating import dating
from opendcc.devices.gbcs.errors import MalformedCommand, NotACommand, UnsupportedUseCase
from opendcc.devices.gbcs.forms import form_for
from opendcc.devices.gbcs.settings import (
    CERTIFICATE_UPDATES,
    DEVICE_READS,
    RECORDED,
    SECURITY_CREDENTIALS,
    RecordedSettings,
    served,
)
from opendcc.devices.gbcs.templates import ResponseForm
from opendcc.devices.gbcs.values import FillContext, fill
from opendcc.devices.results import Result, ok
from opendcc.devices.security import CommandHeader, RemotePartyRole, TrustAnchor
from opendcc.devices.use_cases import USE_CASES
from opendcc.devices.wan import Delivery
from opendcc.gbcs import codec, security
from opendcc.gbcs.codec import GbcsMessage, MessageKind
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.errors import GbcsError, MissingKey
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.payloads import encode_payload, payload_from_json, payload_json
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64


@dataclass(frozen=True, slots=True)
class Answer:
    """What a device sent back for one Command."""

    device: str
    use_case: str
    executed: bool
    messages: list[bytes]


class _GbcsAuthenticator:
    """GBCS §6.3: the remote party's signature (critical commands) and the ACB's MAC (every
    command with a MAC Header), each checked when present; at least one must be."""

    def __init__(self, msg: GbcsMessage, keys: KeyLookup, acb: EUI64) -> None:
        self.msg = msg
        self.keys = keys
        self.acb = acb

    def authenticate(self, header: CommandHeader, anchor: TrustAnchor) -> None:
        """Raise `NotAuthorised` unless the signature and MAC verify with the device's keys."""
        cache = security.cache_for(self.keys)
        apdu = self.msg.apdu
        frame = self.msg.frame
        if not apdu.signature and not isinstance(frame, GeneralCiphering):
            raise NotAuthorised("a command with neither signature nor MAC")
        if apdu.signature:
            key = cache.public_key(EUI64.parse(anchor.entity), "ds")
            if key is None or not security.verify(key, apdu.signed_data(), apdu.signature):
                raise NotAuthorised(f"signature by {header.originator} does not verify "
                                    f"with the {header.role.value} trust anchor")
        if isinstance(frame, GeneralCiphering):
            try:
                verified = codec.check_mac(frame, cache, self.acb, 0, self.msg.use_case.han_only)
            except GbcsError:
                raise NotAuthorised(f"MAC of the command from {header.originator} does not verify") from None
            if verified is not codec.Verification.VERIFIED:
                raise NotAuthorised(f"no key agreement key to check the MAC from {header.originator}")


#: GBCS message type of critical commands (signed by the remote party, GBCS §7.2.9).
CRITICAL = "SME.C.C"
#: Devices whose alerts are encoded as GBCS (DLMS from the ESME, GBZ from the GSME).
_METERS = (DeviceType.ESME, DeviceType.GSME)
#: Alert table recipient -> the trust anchor role the alert is addressed to.
_ALERT_ROLES = {Recipient.SUPPLIER: RemotePartyRole.SUPPLIER,
                Recipient.NETWORK_OPERATOR: RemotePartyRole.NETWORK_OPERATOR,
                Recipient.ACCESS_CONTROL_BROKER: RemotePartyRole.ACCESS_CONTROL_BROKER,
                Recipient.WAN_PROVIDER: RemotePartyRole.WAN_PROVIDER}
#: Use cases that change a HAN link, served by either device of the link (GBCS 8.7, 8.8), and
#: use cases every device type serves though `use_cases.py` names one (CS06, CS02c).
_HAN_LINK_USE_CASES = ("CS03", "CS04", "CS07", *ANY_DEVICE_TYPE)


class DeviceGbcsEndpoint:
    """Emulated devices answering GBCS: `handle(command octets) -> [response octets]`.

    `keys` must hold the emulated devices' private keys (`keys.issue_device_credentials`)
    and the certificates of the remote parties they trust (e.g. `KeyStore.from_reference()`,
    layered behind with `keys.layered`).
    """

    def __init__(self, estate: Estate, keys: KeyLookup, clock: Clock, *,
                 alert_sink: Callable[[bytes], None] | None = None) -> None:
        self.estate = estate
        self.keys = keys
        self.clock = clock
        #: Where Alerts go when a held command runs later; without a sink they wait in `alerts`.
        self.alert_sink = alert_sink
        self.alerts: list[bytes] = []
        #: Configuration the device models do not keep, recorded as the commands carried it.
        self.settings = RecordedSettings()
        self._alert_counters: dict[str, int] = {}
        self._forms: dict[tuple[str, bytes, bool, bool], ResponseForm | None] = {}
        #: GBCS 13.3 CS02b: trust anchor replacement.
        self.credentials = SecurityCredentials(self, self._next_alert_counter)

    # -----------------------------------------------------------------------------------------

    def handle(self, command: bytes) -> list[bytes]:
        """GBCS §7: execute one Command; the Response, then any alerts it raised, as octets."""
        return self.answer(command).messages

    def send(self, command: bytes, **options: Any) -> Delivery[list[bytes]]:
        """Carry the Command over the simulated WAN to its device's hub and handle it there
        (`Estate.send` options: deadline_s, retry_after_s, max_attempts, on_done). A discarded
        command comes back as `Delivery.error`."""
        return self.estate.send(addressee(command), lambda _device, _t: self.handle(command),
                                **options)

    def answer(self, command: bytes) -> Answer:
        """`handle`, also saying which device answered, for which use case, and whether it
        executed the command (a refusal is answered with the failure Response)."""
        now = self.clock.now()
        msg = self._read(command)
        if msg.use_case.code in SECURITY_CREDENTIALS:
            return self.credentials.answer(msg, now)
        apdu = msg.apdu
        code = msg.use_case.code
        view = payload_json(msg.payload)
        critical = bool(apdu.signature)
        form = self._form_for(code, apdu.content, view, success=True, critical=critical)
        if form is None:
            raise UnsupportedUseCase(f"{code} (message code 0x{apdu.message_code:04X}) has no "
                                     f"Response form")
        _, device = self.estate.reach(apdu.recipient.hyphenated)
        self._authenticate(msg, device, now)
        ctx = CommandContext(view, apdu.originator_counter, device, now, self._lookup)
        success = True
        queued = len(device.outbox or [])
        try:
            args = {"payload": view} if code in RECORDED or code in CERTIFICATE_UPDATES \
                else arguments(code, ctx)
            when = dating(code, view)
            if when.cancel:
                self._cancel(code, device, now)
            elif when.at is not None:
                self._hold(msg, device, when.at, args)
            else:
                self._execute(code, device, now, args)
        except CommandRefused:
            success = False
        if not success:
            form = self._form_for(code, apdu.content, view, success=False,
                                  critical=critical) or form
        response = self._respond(msg, device, form, view, now, success)
        return Answer(device.id, code, success, [response, *self._raised_alerts(device, queued)])

    # -----------------------------------------------------------------------------------------

    def _form_for(self, code: str, content: bytes, view: Any, *, success: bool,
                  critical: bool) -> ResponseForm | None:
        """`form_for`, remembered by the command's payload octets (the view is a function of
        them): a repeated command skips the shape walk, ~5% of a device SRV end to end."""
        key = (code, content, success, critical)
        if key in self._forms:
            return self._forms[key]
        form = form_for(code, view, success=success, critical=critical)
        if len(self._forms) >= 4096:  # commands carrying values vary without end: stay bounded
            self._forms.clear()
        self._forms[key] = form
        return form

    def _read(self, command: bytes) -> GbcsMessage:
        try:
            msg = codec.decode(command)
        except GbcsError as exc:
            raise MalformedCommand(f"{exc.field} at offset {exc.offset}: {exc.message}") from None
        if msg.kind is not MessageKind.COMMAND:
            raise NotACommand(f"a {msg.kind.value} is not a Command a device executes")
        if not served(msg.use_case.code):
            raise UnsupportedUseCase(f"{msg.use_case.code} (message code "
                                     f"0x{msg.apdu.message_code:04X}) is not emulated")
        return msg

    def _execute(self, code: str, device: Device, now: datetime,
                 args: dict[str, Any]) -> Result[Any]:
        """Run the use case on the device. Joins and unjoins (CS03, CS04) run on whichever
        side of the HAN link the command is addressed to (e.g. a PPMID joining an IHD); CS06
        and CS02c on any device."""
        if code in RECORDED:
            return ok(self.settings.record(code, device, args["payload"], now), now)
        if code in CERTIFICATE_UPDATES:
            self._check_certificate(device, args["payload"])
            return ok(self.settings.record(code, device, args["payload"], now), now)
        if code in DEVICE_READS:
            # Answered from the device's own certificates by values.PAYLOAD_VALUES.
            if self.keys.certificate(device.eui, "ds") is None:
                raise InvalidArgument(f"{device.id} holds no device certificate")
            return ok(None, now)
        row = USE_CASES[code]
        if device.kind is not row.device and code.startswith(_HAN_LINK_USE_CASES) \
                and hasattr(device, row.method):
            method: Callable[..., Result[Any]] = getattr(device, row.method)
            return method(now=now, **args)
        if device.kind is DeviceType.GPF and row.device is DeviceType.GSME and not row.changes_state:
            # GBCS: the GPF answers GSME reads addressed to it from the GSME's data.
            gsme = self.estate.premises_of(device.id).gsme
            if gsme is not None:
                read: Callable[..., Result[Any]] = getattr(gsme, row.method)
                return read(now=now, **args)
        return self.estate.dispatch(code, device.id, now, **args)

    def _check_certificate(self, device: Device, view: Any) -> None:
        """GBCS 6.15.2 (CS02d): the new certificate must certify a public key this device holds
        the private key of (its DS or KA key); otherwise the device refuses it."""
        payload = payload_from_json(view)
        try:
            certificate = x509.load_der_x509_certificate(encode_payload(payload)
                                                         if payload is not None else b"")
        except ValueError:
            raise InvalidArgument("the command does not carry an X.509 certificate") from None
        own = [_spki(c) for usage in ("ds", "ka")
               if (c := self.keys.certificate(device.eui, usage)) is not None]
        if _spki(certificate) not in own:
            raise InvalidArgument(f"the certificate does not certify a key {device.id} holds")

    def _hold(self, msg: GbcsMessage, device: Device, at: datetime, args: dict[str, Any]) -> None:
        """GBCS §7.2.10: hold the command until `at` (refused if not in the future); when it
        runs the device raises alert 0x8F66 with the outcome."""
        code = msg.use_case.code
        ref = f"{msg.apdu.originator.hyphenated}:{msg.apdu.originator_counter}"
        held = HeldCommand.from_view(msg.apdu.originator, msg.apdu.message_code,
                                     msg.apdu.originator_counter, payload_json(msg.payload))

        def run(d: Any, t: datetime) -> Result[Any]:
            result = self._execute(code, d, t, args)
            self._alert(d, held, t)
            return result

        self.estate.schedule(device.id, ref, code, at, run, alert=False)  # `_alert` sends them

    def _alert(self, device: Device, held: HeldCommand, executed_at: datetime) -> None:
        """GBCS §7.2.10: the signed 0x8F66 alerts to the command's originator, one for each
        part the command activated."""
        at = device.device_time(executed_at)
        apdus = [alert_apdu(device.eui, held, target, at, self._next_alert_counter(device))
                 for target in held.targets()]
        apdus += future_dated_alerts(device, held, at, lambda: self._next_alert_counter(device))
        for apdu in apdus:
            octets = bytes(codec.sign_apdu(apdu, self.keys))
            if self.alert_sink is not None:
                self.alert_sink(octets)
            else:
                self.alerts.append(octets)

    def _next_alert_counter(self, device: Device) -> int:
        """The device's Originator Counter for its next Alert: rising, time-based."""
        counter = max(self._alert_counters.get(device.id, 0) + 1,
                      int(self.clock.now().timestamp() * 1000))
        self._alert_counters[device.id] = counter
        return counter

    def _raised_alerts(self, device: Device, queued: int) -> list[bytes]:
        """GBCS §16.2: the alerts the device raised while executing the command, as General
        (Non-)Critical Alerts to the party the alert table names; taken from its outbox."""
        outbox = device.outbox or []
        raised, kept = outbox[queued:], outbox[:queued]
        out: list[bytes] = []
        for alert in raised:
            recipient = self._alert_recipient(device, alert)
            if recipient is None or not isinstance(alert.code, int) or device.kind not in _METERS:
                kept.append(alert)
                continue
            apdu = general_alert_apdu(device.eui, recipient, alert.code, alert.at,
                                      dlms=device.kind is DeviceType.ESME,
                                      alert_counter=self._next_alert_counter(device))
            signed = codec.sign_apdu(apdu, self.keys) if apdu.signature is not None else apdu
            out.append(bytes(signed) if apdu.signature is not None
                       else bytes(codec.add_mac_header(signed, self.keys)))
        device.outbox = kept or None
        return out

    @staticmethod
    def _alert_recipient(device: Device, alert: Alert) -> EUI64 | None:
        role = _ALERT_ROLES.get(alert.recipient)
        anchor = device.anchors.get(role) if role is not None and alert.type.to_wan else None
        return EUI64.parse(anchor.entity) if anchor is not None else None

    def _cancel(self, code: str, device: Device, now: datetime) -> None:
        """Cancel the future-dated commands of this use case the device holds (none: no
        change)."""
        for pending in device.pending():
            if pending.use_case == code:
                device.cancel(pending.ref, now)

    def _lookup(self, device_id: str) -> Device | None:
        return self.estate.device(device_id) if device_id in self.estate else None

    def _authenticate(self, msg: GbcsMessage, device: Device, now: datetime) -> None:
        """GBCS §6.2: originator anchored for some role (and the supplementary remote party,
        if any); signature or MAC; counter above the highest seen from the originator."""
        apdu = msg.apdu
        originator = apdu.originator.hyphenated
        role = _role_of(device, originator)
        party = apdu.other_information.remote_party_id
        # GBCS URP (e.g. ECS21b/GCS16b for an Unknown Remote Party): a party the device does
        # not anchor, vouched for by the originator, its KA certificate in the command.
        if role is not None and party is not None and _role_of(device, party.hyphenated) is None \
                and apdu.other_information.remote_party_ka_certificate is None:
            role = None
            originator_note = f"remote party {party.hyphenated}"
        else:
            originator_note = originator
        header = CommandHeader(originator, role or RemotePartyRole.SUPPLIER,
                               apdu.originator_counter, apdu.signed_data(), apdu.signature or b"")
        if role is None:
            # Let the device log the refusal as it logs every authentication failure.
            with contextlib.suppress(NotAuthorised):
                device.accept(dataclasses.replace(header, originator=f"untrusted {originator_note}"),
                              now)
            raise NotAuthorised(f"{originator_note} is not a remote party {device.id} trusts")
        if (msg.use_case.message_type or "").startswith(CRITICAL) and not apdu.signature:
            with contextlib.suppress(NotAuthorised):
                device.accept(dataclasses.replace(header, originator=f"unsigned {originator}"), now)
            raise NotAuthorised(f"{msg.use_case.code} is critical: it needs the signature of "
                                f"{originator}, a MAC is not enough")
        acb = device.anchors.get(RemotePartyRole.ACCESS_CONTROL_BROKER)
        acb_id = EUI64.parse(acb.entity) if acb is not None else codec.DEFAULT_ACB
        device.accept(header, now, _GbcsAuthenticator(msg, self.keys, acb_id))

    def _respond(self, msg: GbcsMessage, device: Device, form: ResponseForm, command_view: Any,
                 now: datetime, success: bool) -> bytes:
        """GBCS §7.2.7: the Response APDU, MACed or (for critical commands) signed."""
        view = fill(form, FillContext(device, now, command_view, msg.use_case.code, self.keys,
                                      self._lookup),
                    success=success)
        cmd = msg.apdu
        other = OtherInformation(cmd.message_code, cmd.other_information.remote_party_id,
                                 cmd.other_information.remote_party_counter)
        stamp = DateTime.from_datetime(device.device_time(now)) if form.dated else None
        apdu = GeneralSigning(CraFlag.RESPONSE, cmd.originator_counter, device.eui, cmd.originator,
                              stamp, other, b"", None)
        derived: list[bytes] = []

        def key() -> bytes:
            # Derived on the first part to encrypt (one walk of the view, not two).
            if not derived:
                found = codec.encryption_key(apdu, self.keys)
                if found is None:
                    raise MissingKey("Ciphered Payload", 0,
                                     f"no key agreement key pair for {device.id}")
                derived.append(found)
            return derived[0]

        view = _encrypt(view, key, device.eui)
        payload = payload_from_json(view)
        apdu = dataclasses.replace(apdu, content=encode_payload(payload) if payload is not None else b"")
        if form.signed:
            return bytes(codec.sign_apdu(dataclasses.replace(apdu, signature=bytes(64)), self.keys))
        return bytes(codec.add_mac_header(apdu, self.keys))


def addressee(command: bytes) -> str:
    """The device a GBCS Command is addressed to (its Recipient), e.g. to route it to a hub."""
    try:
        frame = codec.decode_frame(command)
    except GbcsError as exc:
        raise MalformedCommand(f"{exc.field} at offset {exc.offset}: {exc.message}") from None
    apdu = frame.apdu if isinstance(frame, GeneralCiphering) else frame
    return apdu.recipient.hyphenated


def _spki(certificate: x509.Certificate) -> bytes:
    """The certified public key, as DER SubjectPublicKeyInfo."""
    return certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _encrypt(node: Any, key: Callable[[], bytes], originator: EUI64) -> Any:
    """GBCS §4.3.3: encrypt each part the form marks with its plaintext under the device's
    payload encryption key (GBZ ciphered ZCL payloads, DLMS protected attributes)."""
    if isinstance(node, dict):
        out = {k: _encrypt(v, key, originator) for k, v in node.items() if k != "plaintext"}
        if "plaintext" in node:
            plain = bytes.fromhex(node["plaintext"])
            if out.get("@type") == "ciphered-zcl-payload":
                header = bytes.fromhex(out["security_header"])
                sealed = security.encrypt(key(), originator, plain, header)
                out["ciphertext"] = sealed[:-security.MAC_LENGTH].hex()
                out["authentication_tag"] = sealed[-security.MAC_LENGTH:].hex()
            else:
                header = security.ENCRYPTION_HEADER
                out["value"] = (header + security.encrypt(key(), originator, plain, header)).hex()
        return out
    if isinstance(node, list):
        return [_encrypt(v, key, originator) for v in node]
    return node


def _role_of(device: Device, entity: str) -> RemotePartyRole | None:
    """The role for which the device anchors `entity`, if any (GBCS §6.2 trust anchors)."""
    for role, anchor in device.anchors.anchors:
        if anchor.entity == entity:
            return role
    return None
