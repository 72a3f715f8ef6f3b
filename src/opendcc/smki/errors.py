"""Why a certificate is refused: one exception class per reason, each with a message saying what
is wrong with which certificate.

SMKI Interface Design Specification / SEC Appendix B: a relying party checks the certification
path, the validity period, the key usage and the revocation status before it uses a certificate.
"""

from __future__ import annotations

from datetime import datetime


class CertificateRejected(Exception):
    """A certificate that must not be relied on; `reason` is a short machine-readable tag."""

    reason = "rejected"

    def __init__(self, message: str, *, serial: int | None = None) -> None:
        super().__init__(message)
        self.serial = serial

    @property
    def serial_hex(self) -> str | None:
        """The serial of the refused certificate in the hex form repositories use."""
        return None if self.serial is None else format(self.serial, "X")


class MalformedCertificate(CertificateRejected):
    """Not a DER X.509 certificate, or not one of the SMKI profile's forms."""

    reason = "malformed"


class Expired(CertificateRejected):
    """The validity period ended before the time of use."""

    reason = "expired"

    def __init__(self, message: str, *, serial: int | None = None,
                 not_after: datetime | None = None) -> None:
        super().__init__(message, serial=serial)
        self.not_after = not_after


class NotYetValid(CertificateRejected):
    """The validity period starts after the time of use."""

    reason = "not-yet-valid"

    def __init__(self, message: str, *, serial: int | None = None,
                 not_before: datetime | None = None) -> None:
        super().__init__(message, serial=serial)
        self.not_before = not_before


class WrongKeyUsage(CertificateRejected):
    """Used for digital signing when it certifies a key-agreement key, or the reverse."""

    reason = "wrong-key-usage"


class UntrustedIssuer(CertificateRejected):
    """Not issued by a trusted SMKI CA, or the issuer's signature does not verify."""

    reason = "untrusted-issuer"


class Revoked(CertificateRejected):
    """On the certificate revocation list."""

    reason = "revoked"


class EntityMismatch(CertificateRejected):
    """A certificate for one entity presented by another."""

    reason = "entity-mismatch"


class RepositoryError(Exception):
    """A request the SMKI repository or an authority cannot carry out (unknown serial, bad role)."""
