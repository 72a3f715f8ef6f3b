"""Fixtures for the Transform tests and the count report printed after the run."""

from __future__ import annotations

import pytest
from transform_rtds import REPORT

from opendcc.smki.keystore import KeyStore


@pytest.fixture(scope="session")
def keys() -> KeyStore:
    """The reference key store: user, ACB and device keys of the RTDS vectors."""
    return KeyStore.from_reference()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for check, counts in sorted(REPORT.items()):
        total = sum(counts.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        terminalreporter.write_line(f"transform {check}: {counts['match']}/{total} ({parts})")
