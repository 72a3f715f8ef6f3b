"""General Signing APDU: the GBCS Grouping Header, the payload and the signature trailer.

GBCS §7.2.7 (Grouping Header) and DLMS general-signing:
  DF | transaction-id (09 | CRA flag | originator counter) | originator system title (08 | id)
     | recipient system title (08 | id) | date-time (00, or 0C | 12 octets)
     | other-information (length | message code [| supplementary fields])
     | content (length | payload) | signature (length | r||s) -- the trailer may be absent
       (a Pre-Command), empty (length 00) or 64 octets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.errors import BadLength, Malformed
from opendcc.gbcs.reader import Reader, encode_length, sized
from opendcc.ids import EUI64

TAG = 0xDF


class CraFlag(enum.IntEnum):
    """GBCS §7.2.7: Command, Response or Alert."""

    COMMAND = 1
    RESPONSE = 2
    ALERT = 3


@dataclass(frozen=True, slots=True)
class OtherInformation:
    """GBCS §7.2.7 Other Information: the message code and the supplementary fields.

    Message codes of Commands sent on behalf of another party (and their Responses) add the
    Supplementary Remote Party ID and Counter; some add a Supplementary Originator Counter
    (26 octets in all) or the Supplementary Remote Party Key Agreement Certificate (DER).
    """

    message_code: int
    remote_party_id: EUI64 | None = None
    remote_party_counter: int | None = None
    originator_counter: int | None = None
    remote_party_ka_certificate: bytes | None = None

    @classmethod
    def decode(cls, raw: bytes, offset: int) -> OtherInformation:
        """Decode the octets of Other Information (without its length)."""
        n = len(raw)
        if n < 2:
            raise BadLength("Other Information", offset, f"needs at least the 2-octet message code, has {n}")
        code = int.from_bytes(raw[:2], "big")
        if n == 2:
            return cls(code)
        if n < 10 or 10 < n < 18 or 18 < n < 26:
            raise BadLength("Other Information", offset,
                            f"{n} octets: supplementary fields are 8-octet entries")
        party = EUI64.from_bytes(raw[2:10])
        if n == 10:
            return cls(code, party)
        counter = int.from_bytes(raw[10:18], "big")
        if n == 18:
            return cls(code, party, counter)
        if n == 26:
            return cls(code, party, counter, int.from_bytes(raw[18:26], "big"))
        return cls(code, party, counter, None, raw[18:])

    def __bytes__(self) -> bytes:
        out = self.message_code.to_bytes(2, "big")
        if self.remote_party_id is None:
            return out
        out += bytes(self.remote_party_id)
        if self.remote_party_counter is None:
            return out
        out += self.remote_party_counter.to_bytes(8, "big")
        if self.originator_counter is not None:
            out += self.originator_counter.to_bytes(8, "big")
        elif self.remote_party_ka_certificate is not None:
            out += self.remote_party_ka_certificate
        return out


@dataclass(frozen=True, slots=True)
class GeneralSigning:
    """A decoded General Signing APDU. `signature` is None when the trailer is absent."""

    cra_flag: CraFlag
    originator_counter: int
    originator: EUI64
    recipient: EUI64
    date_time: DateTime | None
    other_information: OtherInformation
    content: bytes
    signature: bytes | None

    @property
    def message_code(self) -> int:
        """The GBCS message code naming the use case."""
        return self.other_information.message_code

    def signed_data(self) -> bytes:
        """GBCS §4.3.2: the octets the signature covers, from after the tag to the payload's end."""
        return self.header_and_content()[1:]

    def header_and_content(self) -> bytes:
        """The APDU up to the end of the payload, without the signature trailer."""
        dt = b"\x00" if self.date_time is None else b"\x0c" + bytes(self.date_time)
        return b"".join((
            bytes((TAG, 9, int(self.cra_flag))), self.originator_counter.to_bytes(8, "big"),
            b"\x08", bytes(self.originator), b"\x08", bytes(self.recipient), dt,
            sized(bytes(self.other_information)), sized(self.content),
        ))

    def __bytes__(self) -> bytes:
        body = self.header_and_content()
        if self.signature is None:
            return body
        return body + encode_length(len(self.signature)) + self.signature


def decode(r: Reader) -> GeneralSigning:
    """Decode a General Signing APDU from `r`, which must end where the APDU ends."""
    r.expect(TAG, "General Signing Tag")
    r.expect(9, "Transaction ID Length")
    at = r.pos
    cra = r.byte("CRA Flag")
    if cra not in (1, 2, 3):
        raise Malformed("CRA Flag", at, f"0x{cra:02X} is not Command (1), Response (2) or Alert (3)")
    counter = int.from_bytes(r.take(8, "Originator Counter"), "big")
    r.expect(8, "Originator System Title Length")
    originator = EUI64.from_bytes(r.take(8, "Originator System Title"))
    r.expect(8, "Recipient System Title Length")
    recipient = EUI64.from_bytes(r.take(8, "Recipient System Title"))
    at = r.pos
    dt_len = r.byte("Date Time Length")
    if dt_len not in (0, 12):
        raise BadLength("Date Time Length", at, f"{dt_len}: a date-time is absent (0) or 12 octets")
    date_time = DateTime.from_bytes(r.take(12, "Date Time"), at) if dt_len else None
    at = r.pos
    oi_raw = r.sized("Other Information")
    other = OtherInformation.decode(oi_raw, at)
    content = r.sized("Content")
    signature: bytes | None = None
    if r.remaining:
        at = r.pos
        signature = r.sized("Signature")
        if len(signature) not in (0, 64):
            raise BadLength("Signature Length", at, f"{len(signature)}: a signature is 0 or 64 octets")
    if r.remaining:
        raise BadLength("General Signing", r.pos, f"{r.remaining} octets follow the signature")
    return GeneralSigning(CraFlag(cra), counter, originator, recipient, date_time, other,
                          content, signature)
