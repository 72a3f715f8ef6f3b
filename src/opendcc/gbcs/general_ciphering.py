"""General Ciphering APDU as GBCS uses it for the MAC Header (GBCS §7.2.5, §6.2.3).

  DD | transaction-id 00 | originator-system-title 00 | recipient-system-title 00
     | date-time 00 | other-information 00 | key-info absent 00
     | ciphered-content (length | security header (SC 0x11, invocation counter 4 octets)
                                | General Signing APDU | MAC 12 octets)

GBCS leaves the five octet-strings empty and key-info absent; other values are kept as sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from opendcc.gbcs import general_signing
from opendcc.gbcs.errors import BadLength, Malformed
from opendcc.gbcs.general_signing import GeneralSigning
from opendcc.gbcs.reader import Reader, encode_length, sized

TAG = 0xDD
MAC_LENGTH = 12
#: GBCS §6.2.3: security suite 1, authentication only.
SECURITY_CONTROL_AUTHENTICATED = 0x11


@dataclass(frozen=True, slots=True)
class GeneralCiphering:
    """A decoded MAC Header with the General Signing APDU it protects and the MAC."""

    apdu: GeneralSigning
    mac: bytes
    security_control: int = SECURITY_CONTROL_AUTHENTICATED
    invocation_counter: int = 0
    transaction_id: bytes = b""
    originator_system_title: bytes = b""
    recipient_system_title: bytes = b""
    date_time: bytes = b""
    other_information: bytes = b""

    def security_header(self) -> bytes:
        """SC and invocation counter: 5 octets."""
        return bytes((self.security_control,)) + self.invocation_counter.to_bytes(4, "big")

    def prefix(self) -> bytes:
        """The octets before the ciphered content's length."""
        return b"".join((bytes((TAG,)), sized(self.transaction_id), sized(self.originator_system_title),
                         sized(self.recipient_system_title), sized(self.date_time),
                         sized(self.other_information), b"\x00"))

    def __bytes__(self) -> bytes:
        inner = self.security_header() + bytes(self.apdu) + self.mac
        return self.prefix() + encode_length(len(inner)) + inner


def decode(r: Reader) -> GeneralCiphering:
    """Decode a General Ciphering APDU from `r`, which must end where the APDU ends."""
    r.expect(TAG, "General Ciphering Tag")
    fields = [r.sized(name) for name in ("Transaction ID", "Originator System Title",
                                         "Recipient System Title", "Date Time",
                                         "Other Information")]
    at = r.pos
    if r.byte("Key Info") != 0:
        raise Malformed("Key Info", at, "GBCS MAC Headers carry no key-info")
    at = r.pos
    n = r.length("Ciphered Content Length")
    if n != r.remaining:
        raise BadLength("Ciphered Content Length", at,
                        f"declares {n} octets, {r.remaining} follow")
    if n < 5 + MAC_LENGTH:
        raise BadLength("Ciphered Content Length", at, f"{n} octets cannot hold header and MAC")
    sc = r.byte("Security Control")
    ic = int.from_bytes(r.take(4, "Invocation Counter"), "big")
    mac_at = r.end - MAC_LENGTH
    apdu = general_signing.decode(Reader(r.data, r.pos, mac_at))
    r.pos = mac_at
    mac = r.take(MAC_LENGTH, "MAC")
    return GeneralCiphering(apdu, mac, sc, ic, *fields)
