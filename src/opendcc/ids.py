"""Typed identifiers, validated at the edge: EUI-64 device/entity IDs, RequestIDs, MPxNs.

DUIS 5.4 §3.4: a RequestID is `originator:target:counter`, where originator and target are
EUI-64 identifiers written as eight hyphen-separated hex octets and counter is a decimal
64-bit unsigned integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
_MPXN = re.compile(r"^[0-9]{6,13}$")


#: Text -> its EUI64: each request parses the same few identifiers many times over.
_PARSED: dict[str, EUI64] = {}


class InvalidIdentifier(ValueError):
    """An identifier that does not have the form the specification gives."""


@dataclass(frozen=True, slots=True)
class EUI64:
    """An EUI-64 (device or organisation entity identifier), held as 16 upper-case hex digits."""

    hex: str

    @classmethod
    def parse(cls, text: str) -> EUI64:
        """Accept `00-DB-12-34-56-78-90-A0`, `00DB1234567890A0` or lower case."""
        known = _PARSED.get(text)
        if known is not None and cls is EUI64:
            return known
        compact = text.strip().replace("-", "").replace(":", "")
        if not _HEX16.match(compact):
            raise InvalidIdentifier(f"not an EUI-64: {text!r}")
        parsed = cls(compact.upper())
        if cls is EUI64 and isinstance(text, str):
            if len(_PARSED) >= 65536:  # an estate's worth of identifiers; stay bounded
                _PARSED.clear()
            _PARSED[text] = parsed
        return parsed

    @classmethod
    def from_bytes(cls, raw: bytes) -> EUI64:
        """From the 8 octets used on the wire in GBCS."""
        if len(raw) != 8:
            raise InvalidIdentifier(f"EUI-64 needs 8 octets, got {len(raw)}")
        return cls(raw.hex().upper())

    def __bytes__(self) -> bytes:
        return bytes.fromhex(self.hex)

    @property
    def hyphenated(self) -> str:
        """The DUIS form: eight hyphen-separated octets."""
        h = self.hex
        return f"{h[0:2]}-{h[2:4]}-{h[4:6]}-{h[6:8]}-{h[8:10]}-{h[10:12]}-{h[12:14]}-{h[14:16]}"

    @property
    def lower(self) -> str:
        """Lower-case compact form, as used in key file names."""
        return self.hex.lower()

    def __str__(self) -> str:
        return self.hyphenated


@dataclass(frozen=True, slots=True)
class RequestID:
    """DUIS RequestID: originator (the signer), target (device or DCC) and a rising counter."""

    originator: EUI64
    target: EUI64
    counter: int

    @classmethod
    def parse(cls, text: str) -> RequestID:
        """Parse `originator:target:counter`."""
        parts = text.strip().split(":")
        if len(parts) != 3:
            raise InvalidIdentifier(f"RequestID needs originator:target:counter, got {text!r}")
        if not parts[2].isdigit() or int(parts[2]) >= 2**64:
            raise InvalidIdentifier(f"RequestID counter is not a 64-bit unsigned integer: {parts[2]!r}")
        return cls(EUI64.parse(parts[0]), EUI64.parse(parts[1]), int(parts[2]))

    def __str__(self) -> str:
        return f"{self.originator}:{self.target}:{self.counter}"

    def response_id(self) -> str:
        """DUIS ResponseID: the RequestID with originator and target swapped."""
        return f"{self.target}:{self.originator}:{self.counter}"


@dataclass(frozen=True, slots=True)
class MPxN:
    """An MPAN (electricity, 13 digits) or MPRN (gas, 6-10 digits) meter point identifier."""

    value: str

    @classmethod
    def parse(cls, text: str) -> MPxN:
        """Validate the digit form."""
        t = text.strip()
        if not _MPXN.match(t):
            raise InvalidIdentifier(f"not an MPAN/MPRN: {text!r}")
        return cls(t)

    @property
    def is_mpan(self) -> bool:
        """True for an electricity MPAN (13 digits)."""
        return len(self.value) == 13

    def __str__(self) -> str:
        return self.value
