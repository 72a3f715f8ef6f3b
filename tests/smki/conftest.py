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


@pytest.fixture(scope="session")
def pg_repository_url() -> Iterator[str]:
    """A fresh PostgreSQL database (`OPENDCC_PG_URL`, else the server on 127.0.0.1:5432),
    dropped at the end of the session."""
    import os
    import uuid

    import psycopg
    from psycopg import sql

    admin = os.environ.get("OPENDCC_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    name = f"opendcc_smki_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        pytest.fail(f"no PostgreSQL for the SMKI repository test (set OPENDCC_PG_URL): {exc}")
    base, _, rest = admin.rpartition("/")
    query = "?" + rest.split("?", 1)[1] if "?" in rest else ""
    yield f"{base}/{name}{query}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
