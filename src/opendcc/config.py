"""Process-wide settings: where the reference artefacts live, where state is kept."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    """The folder of published DCC test artefacts (`OPENDCC_REFERENCE`, default ../shared/reference),
    resolved.

    The default is resolved against the project root (the checkout), so tests and tools work
    from any working directory.
    """
    env = os.environ.get("OPENDCC_REFERENCE")
    return _resolved(env or str(_PROJECT_ROOT / ".." / "shared" / "reference"))


@lru_cache(maxsize=16)
def _resolved(path: str) -> Path:
    # Every request reaches this (the Transform's and the devices' tables are keyed by it):
    # resolving costs a few stat calls each time (~3% of a device SRV end to end), while the
    # folder a path names does not move under a running process. The result is resolved:
    # callers need not resolve it again.
    return Path(path).resolve()


def data_dir() -> Path:
    """Where an embedded opendcc keeps its state (`OPENDCC_DATA`, default ./var)."""
    return Path(os.environ.get("OPENDCC_DATA", "var")).resolve()
