"""SMKI test fixtures: a fresh repository on an SQLite file, its authority, and a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opendcc.smki.authority import Authority
from opendcc.smki.repository import CertificateRepository

SEED = "opendcc-test-seed"


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[CertificateRepository]:
    repo = CertificateRepository(tmp_path / "smki.sqlite3")
    yield repo
    repo.close()


@pytest.fixture
def authority(repository: CertificateRepository) -> Authority:
    return Authority.open(repository, seed=SEED)
