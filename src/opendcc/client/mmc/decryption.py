"""Decrypt the ciphered parts of a device Response with the user's key-agreement key.

GBCS §4.3.3 / §7.2.9: sensitive values (register readings, logs) travel as AES-128-GCM
ciphertext inside the payload: a DLMS "protected attributes" structure (protection
parameters, then an octet-string holding security header 0x31 | invocation counter |
ciphertext | 12-octet tag). The key comes from static ECDH between the user's KA private key
and the device's KA public key, through the KDF with CRA flag 4, the (supplementary)
originator counter, and the remote party (the supplementary remote party when there is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opendcc.client.mmc.values import tree
from opendcc.gbcs import security
from opendcc.gbcs.codec import GbcsMessage
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.payload.axdr import decode_data
from opendcc.gbcs.payload.gbz import (
    CipheredZclPayload,
    GbzAlertComponents,
    GbzAlertPayload,
    GbzComponent,
    GbzPayload,
    decode_deciphered_zcl,
)
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64

SECURITY_HEADER = 0x31
_MIN_CIPHERED = 5 + security.MAC_LENGTH


class DecryptionFailed(ValueError):
    """A ciphered payload part whose tag does not verify with the user's key."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Decrypted:
    """The payload's JSON view with ciphered parts replaced by their plaintext's decoding."""

    view: dict[str, Any] | None
    plaintexts: tuple[bytes, ...]
    undecrypted: int  # ciphered parts left as they are (no key held)


def _ciphered(node: Any) -> bool:
    if not isinstance(node, dict) or node.get("@type") != "octet-string":
        return False
    raw = bytes.fromhex(str(node.get("value", "")))
    return len(raw) >= _MIN_CIPHERED and raw[0] == SECURITY_HEADER


def _ciphered_parts(node: Any, out: list[dict[str, Any]]) -> None:
    """Octet-strings of DLMS protected-attribute structures ([protection parameters, ciphertext]),
    and of an alert's data-notification body (GBCS §9.2: ..., protection parameters, ciphertext)."""
    if isinstance(node, dict):
        body = node.get("notification_body")
        elements = body.get("elements") if isinstance(body, dict) else None
        if (isinstance(elements, list) and len(elements) >= 2 and _ciphered(elements[-1])
                and isinstance(elements[-2], dict) and elements[-2].get("@type") == "array"):
            out.append(elements[-1])
            return
        elements = node.get("elements")
        if node.get("@type") == "structure" and isinstance(elements, list) and len(elements) == 2:
            first, second = elements
            if (isinstance(first, dict) and first.get("@type") == "array"
                    and isinstance(second, dict) and second.get("@type") == "octet-string"):
                raw = bytes.fromhex(str(second.get("value", "")))
                if len(raw) >= _MIN_CIPHERED and raw[0] == SECURITY_HEADER:
                    out.append(second)
                    return
        for value in node.values():
            _ciphered_parts(value, out)
    elif isinstance(node, list):
        for item in node:
            _ciphered_parts(item, out)


def _decode_data(plain: bytes) -> dict[str, Any] | None:
    try:
        out = decode_data(plain).to_json()
    except GbcsError:  # not A-XDR: keep the octets
        return None
    return out if isinstance(out, dict) else None


def encryption_key(msg: GbcsMessage, keys: KeyLookup) -> tuple[bytes, EUI64] | None:
    """GBCS §4.3.3.3 with CRA flag 4: the payload key, from the remote party's KA private key."""
    apdu = msg.apdu
    other = apdu.other_information
    party = other.remote_party_id or apdu.recipient
    counter = other.originator_counter if other.originator_counter is not None else apdu.originator_counter
    z = security.cache_for(keys).shared_secret(party, apdu.originator)
    if z is None:
        return None
    key = security.kdf(z, apdu.originator, security.ENCRYPTION_FLAG, counter, party)
    return key, apdu.originator


def _gbz_parts(payload: object, view: dict[str, Any]) -> list[tuple[GbzComponent, dict[str, Any]]]:
    """GBCS §7.3.4: encrypted GBZ components and the JSON of their ZCL payloads."""
    if isinstance(payload, GbzAlertPayload) and isinstance(payload.content, GbzAlertComponents):
        # a GBZ alert carrying components (e.g. 0x8F0A, the billing data log)
        components, json_components = payload.content.components, view.get("content", {}).get("components", [])
    elif isinstance(payload, GbzPayload):
        components, json_components = payload.components, view.get("components", [])
    else:
        return []
    out = []
    for component, json_component in zip(components, json_components, strict=False):
        if isinstance(component.zcl_frame.payload, CipheredZclPayload):
            out.append((component, json_component["zcl_frame"]["payload"]))
    return out


def decrypt_parts(msg: GbcsMessage, keys: KeyLookup | None) -> tuple[Decrypted, bool]:
    """The payload view with every ciphered part decrypted; True when there was any."""
    view = tree(msg.payload)
    if view is None:
        return Decrypted(None, (), 0), False
    parts: list[dict[str, Any]] = []
    _ciphered_parts(view, parts)
    zcl_parts = _gbz_parts(msg.payload, view)
    if not parts and not zcl_parts:
        return Decrypted(view, (), 0), False
    found = keys is not None and encryption_key(msg, keys)
    if not found:
        return Decrypted(view, (), len(parts) + len(zcl_parts)), True
    key, originator = found
    plaintexts: list[bytes] = []
    for i, part in enumerate(parts):
        raw = bytes.fromhex(str(part["value"]))
        plain = security.decrypt(key, originator, raw[5:])
        if plain is None:
            raise DecryptionFailed(f"Ciphered Payload [{i}]",
                                   "the AES-GCM tag does not verify with the user's key")
        plaintexts.append(plain)
        decoded = _decode_data(plain)
        part.clear()
        part.update(decoded if decoded is not None else {"@type": "plaintext", "value": plain.hex()})
    for i, (component, json_payload) in enumerate(zcl_parts):
        ciphered = component.zcl_frame.payload
        assert isinstance(ciphered, CipheredZclPayload)
        plain = security.decrypt(key, originator, ciphered.ciphertext + ciphered.authentication_tag)
        if plain is None:
            raise DecryptionFailed(f"Ciphered ZCL Payload [{i}]",
                                   "the AES-GCM tag does not verify with the user's key")
        plaintexts.append(plain)
        try:
            opened: dict[str, Any] = decode_deciphered_zcl(component, plain).to_json()
        except GbcsError:
            opened = {"@type": "plaintext", "value": plain.hex()}
        json_payload.clear()
        json_payload.update(opened)
    return Decrypted(view, tuple(plaintexts), 0), True
