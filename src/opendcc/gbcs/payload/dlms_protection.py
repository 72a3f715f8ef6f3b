"""GBCS protected DLMS data: where an xDLMS payload carries attribute values encrypted for
the remote party (e.g. ECS17b/ECS17d "get protected attributes" responses, ECS68 alerts).

The values arrive as an ordinary A-XDR structure (Blue Book §4.4 Data protection, class 30):
protection parameters (protection type 2, authentication and encryption; transaction id =
CRA flag and originator counter; originator and recipient system titles; other information;
key info: agreed key) and the protected attributes octet-string (security header,
ciphertext, 12-octet tag). `protected_data` finds them in a decoded tree, so the security
code can open them; `decode_data` then decodes the plaintext as A-XDR Data.

The key is that of every encrypted part of the message (GBCS §4.3.3.3, CRA flag 4): taken
from the General Signing header, i.e. the Supplementary Remote Party and Supplementary
Originator Counter when the message has them, not from the parameters repeated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from opendcc.gbcs.payload.axdr import Array, Data, Enum, OctetString, Structure
from opendcc.gbcs.payload.tree import Node

AUTHENTICATION_AND_ENCRYPTION = 2
SECURITY_HEADER_SIZE = 5
TAG_SIZE = 12
TRANSACTION_ID_SIZE = 9
SYSTEM_TITLE_SIZE = 8


@dataclass(frozen=True)
class ProtectedData:
    """One protected-attributes value and the parameters needed to open it."""

    transaction_id: bytes  # CRA flag (1 octet) then originator counter (8 octets)
    originator_system_title: bytes
    recipient_system_title: bytes
    security_header: bytes
    ciphertext: bytes
    authentication_tag: bytes

    @property
    def cra_flag(self) -> int:
        return self.transaction_id[0]

    @property
    def originator_counter(self) -> int:
        return int.from_bytes(self.transaction_id[1:], "big")


def _parameters(d: Data) -> tuple[bytes, bytes, bytes] | None:
    """(transaction id, originator, recipient) from one protection-parameters element."""
    if not (isinstance(d, Structure) and len(d.elements) == 2):
        return None
    kind, options = d.elements
    if not (isinstance(kind, Enum) and kind.value == AUTHENTICATION_AND_ENCRYPTION
            and isinstance(options, Structure) and len(options.elements) >= 3):
        return None
    tid, orig, recip = options.elements[:3]
    if not (isinstance(tid, OctetString) and len(tid.value) == TRANSACTION_ID_SIZE
            and isinstance(orig, OctetString) and len(orig.value) == SYSTEM_TITLE_SIZE
            and isinstance(recip, OctetString) and len(recip.value) == SYSTEM_TITLE_SIZE):
        return None
    return tid.value, orig.value, recip.value


def _as_protected(d: Data) -> ProtectedData | None:
    if not (isinstance(d, Structure) and len(d.elements) == 2):
        return None
    parameters, attributes = d.elements
    if not (isinstance(parameters, Array) and len(parameters.elements) == 1
            and isinstance(attributes, OctetString)
            and len(attributes.value) >= SECURITY_HEADER_SIZE + TAG_SIZE):
        return None
    found = _parameters(parameters.elements[0])
    if found is None:
        return None
    octets = attributes.value
    return ProtectedData(*found, octets[:SECURITY_HEADER_SIZE],
                         octets[SECURITY_HEADER_SIZE:-TAG_SIZE], octets[-TAG_SIZE:])


def protected_data(tree: Node) -> list[ProtectedData]:
    """Every protected-attributes value in a decoded DLMS payload, in payload order."""
    found: list[ProtectedData] = []

    def walk(value: object) -> Iterator[Data]:
        if isinstance(value, Data):
            yield value
            if isinstance(value, Structure | Array):
                for e in value.elements:
                    yield from walk(e)
        elif isinstance(value, Node):
            for v in vars(value).values():
                yield from walk(v)
        elif isinstance(value, tuple):
            for v in value:
                yield from walk(v)

    for d in walk(tree):
        protected = _as_protected(d)
        if protected is not None:
            found.append(protected)
    return found
