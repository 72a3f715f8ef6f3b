"""Errors of the payload codecs: the GBCS codec's own typed errors, plus one for trees.

Decoding raises `Truncated`, `BadLength` or `Malformed` from `opendcc.gbcs.errors`, naming
the field and the byte offset within the payload. Encoding a tree that cannot be encoded
(a value out of range, two fields that disagree) raises `InvalidTree`, a `Malformed` with
no offset because there are no bytes yet.
"""

from __future__ import annotations

from opendcc.gbcs.errors import BadLength, GbcsError, Malformed, Truncated

__all__ = ["BadLength", "GbcsError", "InvalidTree", "Malformed", "Truncated"]


class InvalidTree(Malformed):
    """A payload tree that cannot be encoded, or JSON that does not describe one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, -1, message)
        self.args = (f"{field}: {message}",)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"
