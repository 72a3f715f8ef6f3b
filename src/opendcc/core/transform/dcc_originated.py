"""CS02b commands the DCC originates and signs itself (GBCS §13.3, DUIS 6.21 and 6.23).

A user asks for SRV 6.23 Update Security Credentials (CoS) or 6.21 Request Handover of DCC
Controlled Device without signing anything (both are non-critical for the user): the
command's authority on the device is a DCC party whose certificate sits in the trust anchor
cell the command names as authorising. For 6.23 that is the Transitional CoS party
(credentialsReplacementMode supplierByTransCoS); for 6.21 it is the DCC, which holds the
anchor cell of a DCC-controlled device until it hands it over. So the DCC originates the
command as that party, with its own Originator Counter, which the payload repeats as the
authorisingRemotePartySeqNumber, and signs it with that party's key (GBCS §4.3.2), before
the Access Control Broker adds the MAC Header.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from opendcc.gbcs import codec
from opendcc.gbcs.general_signing import GeneralSigning
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64

#: The DCC's Transitional Change of Supplier party (ZAZ1 / DCC Boxed).
TRANSITIONAL_COS: Final = EUI64.parse("90-B3-D5-1F-30-00-00-04")
#: The DCC itself, holder of the anchors of DCC-controlled devices until handover.
DCC: Final = EUI64.parse("90-B3-D5-1F-30-00-00-02")
#: GBCS message codes of CS02b (0x0100 + credentialsReplacementMode).
CS02B_CODES: Final = frozenset(range(0x0100, 0x010A))
#: SRV variant -> the DCC party that originates and signs its command.
DCC_ORIGINATORS: Final[dict[str, EUI64]] = {"6.23": TRANSITIONAL_COS, "6.21": DCC}


def integer_octets(value: int) -> str:
    """DER INTEGER contents (X.690 §8.3): the shortest two's complement, as hex."""
    length = max(1, (value.bit_length() + 8) // 8)
    return value.to_bytes(length, "big", signed=True).hex()


def _header(data: bytes, pos: int) -> tuple[int, int, int]:
    """DER TLV at `pos` (one-octet tag): (length octets, content start, content end)."""
    first = data[pos + 1]
    if first < 0x80:
        return 1, pos + 2, pos + 2 + first
    n = first & 0x7F
    length = int.from_bytes(data[pos + 2:pos + 2 + n], "big")
    return 1 + n, pos + 2 + n, pos + 2 + n + length


def _length(size: int, octets: int) -> bytes:
    """A DER length in at least the form it had (`octets` length octets), as short as fits."""
    if octets == 1 and size < 0x80:
        return bytes([size])
    n = max(octets - 1, (size.bit_length() + 7) // 8, 1)
    return bytes([0x80 | n]) + size.to_bytes(n, "big")


def with_seq_number(content: bytes, counter: int) -> bytes:
    """The CS02b payload with authorisingRemotePartySeqNumber ([3] in
    authorisingRemotePartyControl, the command's first member) set to `counter`; the rest of
    the octets (certificates included) untouched."""
    if content[:1] != b"\x30":
        return content
    outer_len, outer_start, outer_end = _header(content, 0)
    if content[outer_start:outer_start + 1] != b"\x30":
        return content
    control_len, control_start, control_end = _header(content, outer_start)
    pos = control_start
    while pos < control_end:
        _, _, end = _header(content, pos)
        if content[pos] == 0x83:  # [3] IMPLICIT INTEGER
            value = bytes.fromhex(integer_octets(counter))
            members = content[control_start:pos] + b"\x83" + _length(len(value), 1) + value \
                + content[end:control_end]
            control = b"\x30" + _length(len(members), control_len) + members
            body = control + content[control_end:outer_end]
            return b"\x30" + _length(len(body), outer_len) + body + content[outer_end:]
        pos = end
    return content


def originate(apdu: GeneralSigning, srv_variant: str, *, counter: int,
              keys: KeyLookup) -> GeneralSigning:
    """The command as the DCC party for `srv_variant` originates it: that party as
    originator, the DCC's `counter` as Originator Counter and authorising sequence number,
    signed with the party's key. Another SRV's CS02b gets its own Originator Counter as
    sequence number; any other command is returned unchanged."""
    party = DCC_ORIGINATORS.get(srv_variant)
    if party is None:  # a user's own CS02b: its sequence number is its Originator Counter too
        if apdu.message_code in CS02B_CODES:
            return dataclasses.replace(apdu, content=with_seq_number(apdu.content,
                                                                     apdu.originator_counter))
        return apdu
    own = dataclasses.replace(apdu, originator=party, originator_counter=counter,
                              content=with_seq_number(apdu.content, counter), signature=bytes(64))
    return codec.sign_apdu(own, keys)
