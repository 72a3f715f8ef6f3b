"""Store fixtures: an in-memory SQLite store, an SQLite file store, and a PostgreSQL database.

PostgreSQL: `OPENDCC_PG_URL` if set, else the server on 127.0.0.1:5432 if one answers, else a
throwaway server started with `pg_ctl` in a temporary directory. Each test session gets a fresh
database, dropped at the end. No PostgreSQL at all is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from opendcc.store.engine import Store, open_store
from opendcc.store.tables import metadata

_LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A libpq URL of an administrative database on a PostgreSQL server we may create DBs on."""
    env = os.environ.get("OPENDCC_PG_URL")
    if env:
        yield env.replace("postgresql+psycopg://", "postgresql://")
        return
    if _reachable("127.0.0.1", 5432):
        yield _LOCAL_PG
        return
    pg_ctl, initdb = shutil.which("pg_ctl"), shutil.which("initdb")
    if not (pg_ctl and initdb):
        pytest.fail("no PostgreSQL: set OPENDCC_PG_URL, run one on 127.0.0.1:5432, or install pg_ctl")
    tmp = Path(tempfile.mkdtemp(prefix="opendcc-pg-"))
    port = _free_port()
    subprocess.run([initdb, "-D", str(tmp / "data"), "-U", "postgres", "-A", "trust"],
                   check=True, capture_output=True)
    subprocess.run([pg_ctl, "-D", str(tmp / "data"), "-l", str(tmp / "log"), "-w", "-o",
                    f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        deadline = time.monotonic() + 30
        while not _reachable("127.0.0.1", port):
            if time.monotonic() > deadline:
                pytest.fail(f"throwaway PostgreSQL did not start; see {tmp / 'log'}")
            time.sleep(0.2)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([pg_ctl, "-D", str(tmp / "data"), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _with_db(admin_url: str, name: str) -> str:
    base, _, _db = admin_url.rpartition("/")
    query = ""
    if "?" in _db:
        query = "?" + _db.split("?", 1)[1]
    return f"{base}/{name}{query}".replace("postgresql://", "postgresql+psycopg://", 1)


class PgDatabases:
    """Creates fresh databases on the session's server and drops them at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def create(self) -> str:
        """A new, empty database: its SQLAlchemy URL."""
        name = f"opendcc_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return _with_db(self.admin_url, name)

    def drop_all(self) -> None:
        """Drop every database this session created."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def pg_databases(pg_server: str) -> Iterator[PgDatabases]:
    """Fresh PostgreSQL databases for this session, dropped afterwards."""
    dbs = PgDatabases(pg_server)
    try:
        yield dbs
    finally:
        dbs.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_databases: PgDatabases) -> str:
    """One fresh PostgreSQL database shared by the session's tests."""
    return pg_databases.create()


@pytest.fixture
def memory_store() -> Iterator[Store]:
    """A private in-memory SQLite store."""
    store = open_store("sqlite://")
    yield store
    store.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An SQLite file URL in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture(scope="session")
def pg_store(pg_url: str) -> Iterator[Store]:
    """One migrated PostgreSQL store for the session (tests get it emptied)."""
    store = open_store(pg_url)
    yield store
    store.close()


def _emptied(store: Store) -> Store:
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with store.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend: an SQLite file and PostgreSQL."""
    if request.param == "postgresql":
        yield _emptied(request.getfixturevalue("pg_store"))
        return
    store = open_store(sqlite_url)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Store]:
    """A store on a database created for this test (for tests that rebuild the schema)."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_databases").create()
    store = open_store(url)
    yield store
    store.close()
