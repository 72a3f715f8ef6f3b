"""SMETS1 test fixtures: a fresh PostgreSQL database (`OPENDCC_PG_URL`, else the server on
127.0.0.1:5432; none is a failure, never a skip), dropped at the end of the session."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

_LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def smets1_pg_url() -> Iterator[str]:
    """The SQLAlchemy URL of a fresh PostgreSQL database for this session's SMETS1 tests."""
    admin = (os.environ.get("OPENDCC_PG_URL") or _LOCAL_PG).replace("postgresql+psycopg://", "postgresql://")
    if not os.environ.get("OPENDCC_PG_URL"):
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        except OSError:
            pytest.fail("no PostgreSQL: set OPENDCC_PG_URL or run one on 127.0.0.1:5432")
    name = f"opendcc_smets1_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, tail = admin.rpartition("/")
    query = "?" + tail.split("?", 1)[1] if "?" in tail else ""
    try:
        yield f"{base}/{name}{query}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
