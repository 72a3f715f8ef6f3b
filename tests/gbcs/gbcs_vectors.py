"""The RTDS GBCS vectors: every `*_GBCS.HEX` under the reference `gbcs/rtds` folder."""

from __future__ import annotations

from pathlib import Path

from opendcc.config import reference_dir

KINDS = ("COMMAND", "PRECOMMAND", "RESPONSE", "ALERT")


def vector_paths() -> list[Path]:
    """All vectors, sorted; globbed, never listed by hand."""
    return sorted((reference_dir() / "gbcs" / "rtds").glob("*/*_GBCS.HEX"))


def read_vector(path: Path) -> bytes:
    """A vector file's octets (hex text, whitespace ignored)."""
    return bytes.fromhex("".join(path.read_text().split()))


def named_kind(path: Path) -> str | None:
    """COMMAND/PRECOMMAND/RESPONSE/ALERT when the file name says which."""
    for part in reversed(path.stem.split("_")):
        if part in KINDS:
            return part
    return None
