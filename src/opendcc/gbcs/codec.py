"""The GBCS codec: bytes <-> GbcsMessage, with use case, payload and security checks.

    decode(data, keys=None) -> GbcsMessage      framing, use case, payload, signature/MAC
    encode(msg, keys=None)  -> bytes            byte-identical; with keys, signs and MACs
    to_json(msg) / from_json(obj)               field names from GBCS §7.2

Pure: no I/O, except that the published use-case table is read once at first use (see
`usecases.default_table`). Keys come from a `KeyLookup`; derived secrets are cached per
lookup (see `security.cache_for`).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opendcc.gbcs import block_transfer, general_ciphering, general_signing, security
from opendcc.gbcs.counters import CounterGuard
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.errors import (
    BadMac,
    BadSignature,
    GbcsError,
    Malformed,
    MissingKey,
    Oversize,
    Truncated,
    UnknownUseCase,
)
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.payloads import (
    RawPayload,
    decode_payload,
    encode_payload,
    payload_from_json,
    payload_json,
    payload_kind,
)
from opendcc.gbcs.reader import MAX_APDU_SIZE, Reader, encode_length
from opendcc.gbcs.security import KeyLookup
from opendcc.gbcs.usecases import UseCase, UseCaseTable, default_table
from opendcc.ids import EUI64

#: The DCC Access Control Broker that MACs Commands to devices (DCC Boxed / RTDS: ACB entity).
DEFAULT_ACB = EUI64.parse("90-B3-D5-1F-30-00-00-02")

Frame = GeneralCiphering | GeneralSigning


class Verification(enum.StrEnum):
    """Outcome of a security check."""

    VERIFIED = "verified"
    NO_KEY = "no key"
    NOT_APPLICABLE = "n.a."


class MessageKind(enum.StrEnum):
    """GBCS message kinds, as the RTDS vector names call them."""

    COMMAND = "COMMAND"
    PRECOMMAND = "PRECOMMAND"
    RESPONSE = "RESPONSE"
    ALERT = "ALERT"


@dataclass(frozen=True, slots=True)
class GbcsMessage:
    """A decoded GBCS message: its frame, what it is, its payload and what was verified."""

    frame: Frame
    use_case: UseCase
    payload: object
    signature_check: Verification = Verification.NOT_APPLICABLE
    mac_check: Verification = Verification.NOT_APPLICABLE

    @property
    def apdu(self) -> GeneralSigning:
        """The General Signing APDU (inside the MAC Header, if there is one)."""
        return self.frame.apdu if isinstance(self.frame, GeneralCiphering) else self.frame

    @property
    def kind(self) -> MessageKind:
        """Command (with MAC Header), Pre-Command (without), Response or Alert."""
        cra = self.apdu.cra_flag
        if cra is CraFlag.COMMAND:
            # A Pre-Command is a Command before the DCC signs/MACs it: it has no trailer.
            if isinstance(self.frame, GeneralSigning) and self.frame.signature is None:
                return MessageKind.PRECOMMAND
            return MessageKind.COMMAND
        return MessageKind.RESPONSE if cra is CraFlag.RESPONSE else MessageKind.ALERT

    @property
    def payload_kind(self) -> str:
        """dlms, zcl or asn1."""
        return payload_kind(self.apdu.content)

    @property
    def verification(self) -> Verification:
        """VERIFIED if every applicable check passed, NO_KEY if one lacked a key, else n.a."""
        checks = {self.signature_check, self.mac_check} - {Verification.NOT_APPLICABLE}
        if not checks:
            return Verification.NOT_APPLICABLE
        return Verification.NO_KEY if Verification.NO_KEY in checks else Verification.VERIFIED


# ---------------------------------------------------------------------------------------------
# decoding

def decode_frame(data: bytes) -> Frame:
    """Framing only: the MAC Header / General Signing structure of `data`."""
    if len(data) > MAX_APDU_SIZE:
        raise Oversize("APDU", 0, f"{len(data)} octets exceed the {MAX_APDU_SIZE}-octet limit")
    if not data:
        raise Truncated("APDU", 0, "empty input")
    tag = data[0]
    r = Reader(data)
    if tag == general_ciphering.TAG:
        return general_ciphering.decode(r)
    if tag == general_signing.TAG:
        return general_signing.decode(r)
    if tag == block_transfer.TAG:
        raise Malformed("APDU Tag", 0, "a General Block Transfer block: reassemble with decode_blocks")
    raise Malformed("APDU Tag", 0, f"0x{tag:02X} is neither General Ciphering (DD) nor General Signing (DF)")


def _offsets(frame: Frame) -> tuple[int, int]:
    """Offsets of the General Signing APDU and of its signature trailer in the encoding."""
    base = 0
    if isinstance(frame, GeneralCiphering):
        apdu = frame.apdu
        inner = len(bytes(apdu)) + 5 + general_ciphering.MAC_LENGTH
        base = len(frame.prefix()) + len(encode_length(inner)) + 5
    else:
        apdu = frame
    return base, base + len(apdu.header_and_content())


def check_signature(apdu: GeneralSigning, cache: security.KeyCache, offset: int = 0) -> Verification:
    """GBCS §4.3.2: verify the originator's signature, if there is one and its key is known."""
    if not apdu.signature:
        return Verification.NOT_APPLICABLE
    key = cache.public_key(apdu.originator, "ds")
    if key is None:
        return Verification.NO_KEY
    if not security.verify(key, apdu.signed_data(), apdu.signature):
        raise BadSignature("Signature", offset, f"does not verify with the DS key of {apdu.originator}")
    return Verification.VERIFIED


def mac_key(apdu: GeneralSigning, cache: security.KeyCache, acb: EUI64,
            han_only: bool = False) -> bytes | None:
    """GBCS §6.2.3: the MAC key. The ACB MACs remote-party Commands for the recipient device;
    the originator MACs its Responses, Alerts and HAN-only Commands for the recipient."""
    if apdu.cra_flag is CraFlag.COMMAND and not han_only:
        z = cache.agreed_secret(acb, apdu.recipient)
    else:
        z = cache.agreed_secret(apdu.recipient, apdu.originator)
    if z is None:
        return None
    return security.kdf(z, apdu.originator, int(apdu.cra_flag), apdu.originator_counter, apdu.recipient)


def compute_mac(frame: GeneralCiphering, key: bytes) -> bytes:
    """The 12-octet MAC of a MAC Header over its General Signing APDU."""
    aad = security.mac_aad(frame.security_header(), bytes(frame.apdu))
    return security.gmac(key, frame.apdu.originator, aad)


def check_mac(frame: Frame, cache: security.KeyCache, acb: EUI64, offset: int,
              han_only: bool = False) -> Verification:
    """Verify the MAC of a MAC Header, when the key agreement key is known."""
    if not isinstance(frame, GeneralCiphering):
        return Verification.NOT_APPLICABLE
    key = mac_key(frame.apdu, cache, acb, han_only)
    if key is None:
        return Verification.NO_KEY
    if compute_mac(frame, key) != frame.mac:
        raise BadMac("MAC", offset, f"does not verify for {frame.apdu.originator} -> {frame.apdu.recipient}")
    return Verification.VERIFIED


def describe(frame: Frame, table: UseCaseTable | None = None, *, strict: bool = False) -> tuple[UseCase, object]:
    """The use case named by the message code, and the payload decoded by its kind."""
    apdu = frame.apdu if isinstance(frame, GeneralCiphering) else frame
    use_case = (table or default_table()).for_message_code(apdu.message_code)
    if strict and not use_case.known:
        oi_len = len(encode_length(len(bytes(apdu.other_information))))
        at = _offsets(frame)[0] + 30 + (12 if apdu.date_time else 0) + oi_len
        raise UnknownUseCase("Message Code", at, f"0x{apdu.message_code:04X} names no GBCS use case")
    return use_case, decode_payload(payload_kind(apdu.content), apdu.content,
                                    use_case.code if use_case.known else None)


def decode(data: bytes, keys: KeyLookup | None = None, *, acb: EUI64 = DEFAULT_ACB,
           counters: CounterGuard | None = None, table: UseCaseTable | None = None,
           strict: bool = False) -> GbcsMessage:
    """Decode a GBCS message; verify its signature and MAC where `keys` hold the keys.

    `counters` rejects a replayed Originator Counter (and records the new one only when the
    message is accepted). `strict` rejects message codes that name no known use case.
    Any malformed input raises a GbcsError naming the field and offset.
    """
    frame = decode_frame(bytes(data))
    use_case, payload = describe(frame, table, strict=strict)
    apdu = frame.apdu if isinstance(frame, GeneralCiphering) else frame
    if counters is not None:
        # The counter follows the tag, the transaction-id length and the CRA flag.
        at = len(data) - len(bytes(apdu)) - (general_ciphering.MAC_LENGTH if apdu is not frame else 0) + 3
        counters.check(apdu.originator, int(apdu.cra_flag), apdu.originator_counter, at)
    sig = mac = Verification.NO_KEY
    if keys is not None:
        cache = security.cache_for(keys)
        try:
            sig = check_signature(apdu, cache)
        except BadSignature as exc:
            raise BadSignature(exc.field, _offsets(frame)[1], exc.message) from None
        mac = check_mac(frame, cache, acb, len(data) - general_ciphering.MAC_LENGTH,
                        use_case.han_only)
    else:
        if not apdu.signature:
            sig = Verification.NOT_APPLICABLE
        if not isinstance(frame, GeneralCiphering):
            mac = Verification.NOT_APPLICABLE
    if counters is not None:
        counters.accept(apdu.originator, int(apdu.cra_flag), apdu.originator_counter)
    return GbcsMessage(frame, use_case, payload, sig, mac)


def decode_blocks(blocks: Iterable[bytes], keys: KeyLookup | None = None, **options: Any) -> GbcsMessage:
    """Reassemble General Block Transfer blocks (Green Book §9.3.5) and decode the APDU."""
    parsed = [block_transfer.decode(Reader(b)) for b in blocks]
    return decode(block_transfer.reassemble(parsed), keys, **options)


def encryption_key(apdu: GeneralSigning, keys: KeyLookup) -> bytes | None:
    """GBCS §4.3.3.3 with CRA flag 4: the key of encrypted payload parts. The recipient is the
    Supplementary Remote Party when there is one, and so is the Supplementary Originator
    Counter."""
    oi = apdu.other_information
    recipient = oi.remote_party_id or apdu.recipient
    counter = apdu.originator_counter if oi.originator_counter is None else oi.originator_counter
    z = security.cache_for(keys).agreed_secret(recipient, apdu.originator)
    if z is None:
        return None
    return security.kdf(z, apdu.originator, security.ENCRYPTION_FLAG, counter, recipient)


def _ciphered_parts(node: object) -> Iterable[tuple[bytes, bytes, bool]]:
    """(security header, ciphertext || tag, explicit) for each encrypted part of a payload.

    Explicit parts are GBZ ciphered ZCL payloads (nodes with security_header, ciphertext and
    authentication_tag). DLMS carries protected attributes as an octet-string holding the
    security header (SC 0x31, IC 0), ciphertext and tag; such strings are found by that header.
    """
    if all(hasattr(node, a) for a in ("security_header", "ciphertext", "authentication_tag")):
        n: Any = node
        yield bytes(n.security_header), bytes(n.ciphertext) + bytes(n.authentication_tag), True
    elif isinstance(node, bytes | bytearray):
        if len(node) >= 5 + security.MAC_LENGTH and node[:5] == security.ENCRYPTION_HEADER:
            yield bytes(node[:5]), bytes(node[5:]), False
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from _ciphered_parts(getattr(node, f.name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _ciphered_parts(item)


def decrypt_payload(msg: GbcsMessage, keys: KeyLookup) -> list[bytes]:
    """GBCS §4.3.3: the plaintexts of the message's encrypted payload parts (GBZ ciphered ZCL
    payloads, DLMS protected attributes), in payload order. Raises MissingKey without the key
    pair, BadMac if the tag of an explicit (GBZ) part fails."""
    parts = list(_ciphered_parts(msg.payload))
    if not parts:
        return []
    key = encryption_key(msg.apdu, keys)
    if key is None:
        raise MissingKey("Ciphered Payload", 0, f"no key agreement key pair for {msg.apdu.originator}")
    out = []
    for i, (header, body, explicit) in enumerate(parts):
        plain = security.decrypt(key, msg.apdu.originator, body, header)
        if plain is not None:
            out.append(plain)
        elif explicit:
            raise BadMac("Ciphered Payload", 0, f"authentication tag of encrypted part {i} fails")
    return out


# ---------------------------------------------------------------------------------------------
# encoding

def with_payload(msg: GbcsMessage, payload: object) -> GbcsMessage:
    """The message carrying another payload (re-encoded by its codec); security unchecked."""
    content = encode_payload(payload)
    apdu = dataclasses.replace(msg.apdu, content=content)
    frame: Frame = dataclasses.replace(msg.frame, apdu=apdu) if isinstance(msg.frame, GeneralCiphering) else apdu
    return GbcsMessage(frame, msg.use_case, payload)


def sign_apdu(apdu: GeneralSigning, keys: KeyLookup) -> GeneralSigning:
    """GBCS §4.3.2: the APDU with the originator's signature in its trailer."""
    cache = security.cache_for(keys)
    key = cache.private_key(apdu.originator, "ds")
    if key is None:
        raise MissingKey("Signature", 0, f"no DS private key for {apdu.originator}")
    return dataclasses.replace(apdu, signature=security.sign(key, apdu.signed_data()))


def add_mac_header(apdu: GeneralSigning, keys: KeyLookup, *, acb: EUI64 = DEFAULT_ACB) -> GeneralCiphering:
    """GBCS §6.2.3: wrap a General Signing APDU in a MAC Header (what the DCC does to a
    Pre-Command) and compute its MAC. A Pre-Command without a trailer gets an empty one."""
    if apdu.signature is None:
        apdu = dataclasses.replace(apdu, signature=b"")
    frame = GeneralCiphering(apdu, bytes(general_ciphering.MAC_LENGTH))
    return mac_frame(frame, keys, acb=acb)


def mac_frame(frame: GeneralCiphering, keys: KeyLookup, *, acb: EUI64 = DEFAULT_ACB,
              table: UseCaseTable | None = None) -> GeneralCiphering:
    """The frame with a freshly computed MAC."""
    han_only = (table or default_table()).for_message_code(frame.apdu.message_code).han_only
    key = mac_key(frame.apdu, security.cache_for(keys), acb, han_only)
    if key is None:
        raise MissingKey("MAC", 0, f"no key agreement key pair for {frame.apdu.originator} -> "
                                   f"{frame.apdu.recipient}")
    return dataclasses.replace(frame, mac=compute_mac(frame, key))


def encode(msg: GbcsMessage | Frame, keys: KeyLookup | None = None, *,
           acb: EUI64 = DEFAULT_ACB) -> bytes:
    """The octets of a message. Without keys, exactly as decoded. With keys, a 64-octet
    signature slot is re-signed and a MAC Header's MAC recomputed (GBCS §4.3.2, §6.2.3)."""
    frame = msg.frame if isinstance(msg, GbcsMessage) else msg
    if keys is not None:
        apdu = frame.apdu if isinstance(frame, GeneralCiphering) else frame
        if apdu.signature:
            apdu = sign_apdu(apdu, keys)
        if isinstance(frame, GeneralCiphering):
            frame = mac_frame(dataclasses.replace(frame, apdu=apdu), keys, acb=acb)
        else:
            frame = apdu
    return bytes(frame)


# ---------------------------------------------------------------------------------------------
# JSON

def _hex(b: bytes | None) -> str | None:
    return None if b is None else b.hex().upper()


def to_json(msg: GbcsMessage) -> dict[str, Any]:
    """A JSON-ready view with field names from GBCS §7.2; `from_json` reads it back."""
    apdu = msg.apdu
    oi = apdu.other_information
    other: dict[str, Any] = {"Message Code": f"0x{oi.message_code:04X}"}
    if oi.remote_party_id is not None:
        other["Supplementary Remote Party ID"] = oi.remote_party_id.hyphenated
    if oi.remote_party_counter is not None:
        other["Supplementary Remote Party Counter"] = oi.remote_party_counter
    if oi.originator_counter is not None:
        other["Supplementary Originator Counter"] = oi.originator_counter
    if oi.remote_party_ka_certificate is not None:
        other["Supplementary Remote Party Key Agreement Certificate"] = _hex(oi.remote_party_ka_certificate)
    out: dict[str, Any] = {
        "Message": msg.kind.value,
        "Use Case": {"Code": msg.use_case.code, "Title": msg.use_case.title,
                     "Message Type": msg.use_case.message_type},
    }
    if isinstance(msg.frame, GeneralCiphering):
        f = msg.frame
        out["MAC Header"] = {
            "Transaction ID": _hex(f.transaction_id), "Originator System Title": _hex(f.originator_system_title),
            "Recipient System Title": _hex(f.recipient_system_title), "Date Time": _hex(f.date_time),
            "Other Information": _hex(f.other_information),
            "Security Control": f"0x{f.security_control:02X}", "Invocation Counter": f.invocation_counter,
        }
    out["Grouping Header"] = {
        "CRA Flag": apdu.cra_flag.name.title(),
        "Originator Counter": apdu.originator_counter,
        "Originator System Title": apdu.originator.hyphenated,
        "Recipient System Title": apdu.recipient.hyphenated,
        "Date Time": None if apdu.date_time is None else _hex(bytes(apdu.date_time)),
        "Other Information": other,
    }
    if apdu.date_time is not None:
        out["Grouping Header"]["Date Time (ISO)"] = apdu.date_time.isoformat()
    payload: dict[str, Any] = {"Kind": msg.payload_kind, "Content": _hex(apdu.content)}
    view = payload_json(msg.payload)
    if view is not None:
        payload["Decoded"] = view
    if isinstance(msg.payload, RawPayload) and msg.payload.error:
        payload["Error"] = msg.payload.error
    out["Payload"] = payload
    out["Signature"] = _hex(apdu.signature)
    if isinstance(msg.frame, GeneralCiphering):
        out["MAC"] = _hex(msg.frame.mac)
    out["Verification"] = {"Signature": msg.signature_check.value, "MAC": msg.mac_check.value}
    return out


def _unhex(obj: Any, field: str) -> bytes:
    try:
        return bytes.fromhex(str(obj or ""))
    except ValueError as exc:
        raise Malformed(field, 0, f"not hex: {obj!r}") from exc


def from_json(obj: dict[str, Any]) -> GbcsMessage:
    """The message `to_json` describes (verification is not repeated: call decode for that)."""
    try:
        gh = obj["Grouping Header"]
        oi = gh["Other Information"]
        cert = oi.get("Supplementary Remote Party Key Agreement Certificate")
        party = oi.get("Supplementary Remote Party ID")
        other = OtherInformation(
            int(str(oi["Message Code"]), 16),
            EUI64.parse(party) if party else None,
            oi.get("Supplementary Remote Party Counter"),
            oi.get("Supplementary Originator Counter"),
            _unhex(cert, "Supplementary Remote Party Key Agreement Certificate") if cert else None,
        )
        dt = gh.get("Date Time")
        signature = obj.get("Signature")
        content = _unhex(obj["Payload"].get("Content"), "Content")
        if obj["Payload"].get("Decoded") is not None:
            # The decoded view wins, so that an edited JSON payload is what gets encoded.
            rebuilt = payload_from_json(obj["Payload"]["Decoded"])
            if rebuilt is not None:
                content = encode_payload(rebuilt)
        apdu = GeneralSigning(
            CraFlag[str(gh["CRA Flag"]).upper()], int(gh["Originator Counter"]),
            EUI64.parse(gh["Originator System Title"]), EUI64.parse(gh["Recipient System Title"]),
            DateTime.from_bytes(_unhex(dt, "Date Time")) if dt else None, other,
            content,
            None if signature is None else _unhex(signature, "Signature"),
        )
        frame: Frame = apdu
        if "MAC Header" in obj:
            mh = obj["MAC Header"]
            frame = GeneralCiphering(
                apdu, _unhex(obj.get("MAC"), "MAC"), int(str(mh["Security Control"]), 16),
                int(mh["Invocation Counter"]), _unhex(mh["Transaction ID"], "Transaction ID"),
                _unhex(mh["Originator System Title"], "Originator System Title"),
                _unhex(mh["Recipient System Title"], "Recipient System Title"),
                _unhex(mh["Date Time"], "Date Time"), _unhex(mh["Other Information"], "Other Information"))
    except GbcsError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Malformed("JSON", 0, f"not a GBCS message description: {exc!r}") from exc
    use_case, payload = describe(frame)
    return GbcsMessage(frame, use_case, payload, Verification.NOT_APPLICABLE, Verification.NOT_APPLICABLE)
