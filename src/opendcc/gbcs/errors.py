"""Errors of the GBCS codec: each names the field and the byte offset where decoding stopped."""

from __future__ import annotations


class GbcsError(ValueError):
    """A GBCS message that cannot be decoded, encoded or trusted."""

    def __init__(self, field: str, offset: int, message: str) -> None:
        self.field = field
        self.offset = offset
        self.message = message
        super().__init__(f"{field} at offset {offset}: {message}")


class Truncated(GbcsError):
    """The input ends before the field it announces."""


class BadLength(GbcsError):
    """A length field disagrees with the data or with the fixed size GBCS gives the field."""


class UnknownUseCase(GbcsError):
    """The message code in Other Information names no GBCS use case (GBCS §13 message codes)."""


class BadMac(GbcsError):
    """The MAC of a General Ciphering APDU does not verify (GBCS §6.2.3, §4.3.3)."""


class BadSignature(GbcsError):
    """The ECDSA signature of a General Signing APDU does not verify (GBCS §4.3.2)."""


class CounterReplay(GbcsError):
    """The originator counter does not exceed the last one accepted from that originator."""


class Oversize(GbcsError):
    """The input or a declared length exceeds the largest APDU this codec accepts."""


class Malformed(GbcsError):
    """A tag or value that GBCS does not allow at this place."""


class MissingKey(GbcsError):
    """Encoding was asked to sign or MAC, but the key lookup holds no private key for it."""
