"""Authored command forms for use cases of security credentials (CS02 family: trust anchors, change of supplier) that have no RTDS vector."""

from __future__ import annotations

from typing import Any


def forms() -> list[dict[str, Any]]:
    """The authored forms of this family, as raw table data (`tables._form`)."""
    return []
