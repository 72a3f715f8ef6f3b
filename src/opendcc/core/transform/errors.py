"""Why a DUIS request cannot be transformed into a GBCS command, each as one DUIS outcome."""

from __future__ import annotations

from http import HTTPStatus

from opendcc.duis.response_codes import (
    DuisError,
    ExecutionDateTimeExpired,
    ServiceNotImplemented,
    SignatureInvalid,
    SignerNotOriginator,
    WrongEndpoint,
)

# Defined with the other DUIS rejections; re-exported for callers that import it from here.
__all__ = [
    "BadRequestValue",
    "CommandFormsUnavailable",
    "CommandNotTabulated",
    "ExecutionDateTimeExpired",
    "KeyNotAvailable",
    "NoGbcsUseCase",
    "PreCommandMalformed",
    "PreCommandSignatureInvalid",
    "PreCommandWrongSigner",
]


class NoGbcsUseCase(WrongEndpoint):
    """E13: the SRV has no GBCS use case (a non-device request), so there is nothing to transform."""


class CommandNotTabulated(ServiceNotImplemented):
    """The SRV has a GBCS use case but opendcc's command tables have no form for it yet."""


class CommandFormsUnavailable(DuisError):
    """The command forms are learned from the RTDS vectors and DUIS templates, and the reference
    folder holding them (`OPENDCC_REFERENCE`) is not there."""

    http_status = HTTPStatus.INTERNAL_SERVER_ERROR


class BadRequestValue(DuisError):
    """A body value the command's GBCS encoding cannot carry (e.g. an integer out of range)."""


class PreCommandSignatureInvalid(SignatureInvalid):
    """The signed Pre-Command's signature does not verify with the originator's DS certificate."""


class PreCommandWrongSigner(SignerNotOriginator):
    """The signed Pre-Command was signed by (or names) another party than the request's originator."""


class PreCommandMalformed(DuisError):
    """The SignedPreCommand's GBCSPayload is not a General Signing APDU with a 64-octet signature."""

    http_status = HTTPStatus.BAD_REQUEST


class KeyNotAvailable(DuisError):
    """A key the DCC needs for this command (ACB key agreement, remote party KA certificate) is missing."""

    http_status = HTTPStatus.INTERNAL_SERVER_ERROR
