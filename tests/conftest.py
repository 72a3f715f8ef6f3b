"""Shared fixtures: the reference artefacts folder and the DCC's own signer/validator."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendcc.config import reference_dir


@pytest.fixture(scope="session")
def reference() -> Path:
    """The published DCC test artefacts (OPENDCC_REFERENCE, default ../shared/reference)."""
    path = reference_dir()
    if not path.is_dir():
        pytest.fail(f"reference artefacts not found at {path}; set OPENDCC_REFERENCE")
    return path
