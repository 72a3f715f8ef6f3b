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
from typing import Any, Final

from opendcc.gbcs import codec
from opendcc.gbcs.general_signing import GeneralSigning
from opendcc.gbcs.payloads import (
    ASN1,
    decode_payload,
    encode_payload,
    payload_from_json,
    payload_json,
)
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64

#: The DCC's Transitional Change of Supplier party (ZAZ1 / DCC Boxed).
TRANSITIONAL_COS: Final = EUI64.parse("90-B3-D5-1F-30-00-00-04")
#: The DCC itself, holder of the anchors of DCC-controlled devices until handover.
DCC: Final = EUI64.parse("90-B3-D5-1F-30-00-00-02")
#: SRV variant -> the DCC party that originates and signs its command.
DCC_ORIGINATORS: Final[dict[str, EUI64]] = {"6.23": TRANSITIONAL_COS, "6.21": DCC}
_SEQ_NUMBER = "authorisingRemotePartySeqNumber"


def integer_octets(value: int) -> str:
    """DER INTEGER contents (X.690 §8.3): the shortest two's complement, as hex."""
    length = max(1, (value.bit_length() + 8) // 8)
    return value.to_bytes(length, "big", signed=True).hex()


def _set_seq_number(view: Any, counter: int) -> bool:
    if isinstance(view, dict):
        if view.get("name") == _SEQ_NUMBER and view.get("@type") == "primitive":
            view["octets"] = integer_octets(counter)
            view.pop("#", None)
            return True
        return any(_set_seq_number(v, counter) for v in view.values())
    if isinstance(view, list):
        return any(_set_seq_number(v, counter) for v in view)
    return False


def with_seq_number(content: bytes, counter: int) -> bytes:
    """The CS02b payload with authorisingRemotePartySeqNumber set to `counter`."""
    view = payload_json(decode_payload(ASN1, content, "CS02b"))
    if view is None or not _set_seq_number(view, counter):
        return content
    payload = payload_from_json(view)
    return encode_payload(payload) if payload is not None else content


def originate(apdu: GeneralSigning, srv_variant: str, *, counter: int,
              keys: KeyLookup) -> GeneralSigning:
    """The command as the DCC party for `srv_variant` originates it: that party as
    originator, the DCC's `counter` as Originator Counter and authorising sequence number,
    signed with the party's key. Any other SRV's command is returned unchanged."""
    party = DCC_ORIGINATORS.get(srv_variant)
    if party is None:
        return apdu
    own = dataclasses.replace(apdu, originator=party, originator_counter=counter,
                              content=with_seq_number(apdu.content, counter), signature=bytes(64))
    return codec.sign_apdu(own, keys)
