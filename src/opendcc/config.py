"""Process-wide settings: where the reference artefacts live, where state is kept."""

from __future__ import annotations

import os
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    """The folder of published DCC test artefacts (`OPENDCC_REFERENCE`, default ../shared/reference).

    The default is resolved against the project root (the checkout), so tests and tools work
    from any working directory.
    """
    env = os.environ.get("OPENDCC_REFERENCE")
    if env:
        return Path(env).resolve()
    return (_PROJECT_ROOT / ".." / "shared" / "reference").resolve()


def data_dir() -> Path:
    """Where an embedded opendcc keeps its state (`OPENDCC_DATA`, default ./var)."""
    return Path(os.environ.get("OPENDCC_DATA", "var")).resolve()
