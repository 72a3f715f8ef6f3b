"""GBCS codec: APDU framing, General Signing/Ciphering, DLMS/COSEM and ZigBee payloads, MACs.

    from opendcc.gbcs import decode, encode, to_json, from_json
    msg = decode(octets, keys)          # keys: a KeyLookup, e.g. smki.keystore.KeyStore
    msg.use_case.code, msg.kind, msg.verification, msg.payload
"""

from opendcc.gbcs.codec import (
    GbcsMessage,
    MessageKind,
    Verification,
    add_mac_header,
    decode,
    decode_blocks,
    decrypt_payload,
    encode,
    from_json,
    to_json,
)
from opendcc.gbcs.counters import CounterGuard
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.security import KeyLookup

__all__ = [
    "CounterGuard",
    "GbcsError",
    "GbcsMessage",
    "KeyLookup",
    "MessageKind",
    "Verification",
    "add_mac_header",
    "decode",
    "decode_blocks",
    "decrypt_payload",
    "encode",
    "from_json",
    "to_json",
]
