"""Opening the store: an SQLAlchemy engine on SQLite (embedded) or PostgreSQL (scale-out),
migrated to the current schema before first use."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from opendcc.config import data_dir

_MIGRATIONS = Path(__file__).with_name("migrations")
# Arbitrary constant naming opendcc's migration lock among PostgreSQL advisory locks.
_MIGRATION_LOCK = 0x0DCC_5703E
# SQLite waits this long for another writer before failing with "database is locked".
_SQLITE_BUSY_SECONDS = 30


class StoreError(Exception):
    """The store could not be opened or migrated."""


class Store:
    """A migrated database: `begin()` gives a transaction, committed when the block ends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # One in-memory SQLite connection is shared by every thread, so transactions on it
        # must not interleave.
        self._serialise = threading.RLock() if _is_memory_sqlite(engine) else None
        self._writers = (WriterQueue(f"{engine.url.database}-writers.lock", _SQLITE_BUSY_SECONDS)
                         if engine.dialect.name == "sqlite" and self._serialise is None else None)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        if self._writers is not None:
            with self._writers.turn(), self.engine.begin() as conn:
                yield conn
            return
        if self._serialise is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._serialise, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def peek(self) -> Iterator[Connection]:
        """A connection for a quick read outside any write transaction, for the statements
        the per-request path runs on the driver (`store._sql.Prepared`) only: it does not
        queue behind writers (SQLite WAL readers do not wait), and what it reads may be stale
        by the time a transaction starts, so it is for guesses the transaction checks."""
        if self._serialise is not None:  # the one in-memory connection: wait for its turn
            with self.begin() as conn:
                yield conn
            return
        raw = self.engine.raw_connection()
        try:
            yield cast(Connection, _Peek(self.engine.dialect, raw))
        finally:
            raw.close()  # back to the pool, rolled back (PostgreSQL opened a transaction)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads (each statement sees committed data)."""
        with self.begin() as conn:
            yield conn

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to an Alembic revision, by default the newest (idempotent)."""
        with self.begin() as conn:
            if self.dialect == "postgresql":
                # Several worker processes may open one fresh database at once: one migrates,
                # the others wait for it and then find the schema current.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config = Config()
            config.set_main_option("script_location", str(_MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, revision)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()


@dataclass(frozen=True)
class _Peek:
    """What `Prepared` uses of a Connection: the dialect and the driver's connection."""

    dialect: Any
    connection: Any


class WriterQueue:
    """Writers of one SQLite file take turns, across threads and processes.

    Every SQLite transaction here is a writer (BEGIN IMMEDIATE). When two meet, SQLite's busy
    handler retries by sleeping 1, 2, 5, 10 ... ms, so two gateway processes sharing a file
    lost milliseconds at each meeting: with the benchmark's 2 processes, fewer device SRs per
    second than 1 process. Written here instead of relying on SQLite's wait: an advisory lock
    (flock) on a file beside the database, polled every 50-500 us, hands the turn on about
    as soon as the last writer commits. A writer that has not had its turn within the busy
    timeout goes ahead and leaves the waiting to SQLite, as before; a transaction opened
    inside another of the same thread does not queue (SQLite decides, as before).
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._thread = threading.Lock()
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for one transaction."""
        if getattr(self._local, "held", False) or self._fd is None:
            yield
            return
        deadline = time.monotonic() + self.timeout
        thread = self._thread.acquire(timeout=self.timeout)
        file = thread and _flock(self._fd, deadline)
        self._local.held = True
        try:
            yield
        finally:
            self._local.held = False
            if file and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            if thread:
                self._thread.release()

    def close(self) -> None:
        """Close the lock file (the turn is not taken again)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _flock(fd: int, deadline: float) -> bool:
    delay = 0.00005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.0005)


def default_url() -> str:
    """The embedded default: an SQLite file under `opendcc.config.data_dir()`."""
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'opendcc.sqlite3'}"


def open_store(url: str | None = None) -> Store:
    """Open (creating and migrating if needed) the store at `url`.

    `None` means the SQLite file under the data directory; `sqlite://` is a private in-memory
    database (tests); `postgresql+psycopg://user@host/db` is PostgreSQL.
    """
    url = url or default_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = _create_engine(url)
        store = Store(engine)
        store.migrate()
    except Exception as exc:
        raise StoreError(f"cannot open store at {url.split('@')[-1]}: {exc}") from exc
    return store


def _is_memory_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def _create_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    memory = url.rstrip("/") in ("sqlite:", "sqlite://") or ":memory:" in url
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["connect_args"]["timeout"] = _SQLITE_BUSY_SECONDS
    engine = create_engine(url, **kwargs)
    _sqlite_transactions(engine, wal=not memory)
    return engine


def _sqlite_transactions(engine: Engine, *, wal: bool) -> None:
    """Give SQLite real transactions: the driver's own BEGIN is deferred and skips SELECTs.

    Every transaction starts with BEGIN IMMEDIATE, taking the write lock up front, so two
    writers queue on the busy timeout instead of failing when both try to upgrade a read lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a committed
            # transaction survives a crash of the process (it is in the WAL file); only an OS
            # crash or power loss may roll back the last commits, never corrupt the database.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the driver, not `exec_driver_sql`: every request pays this (~20 us less of CPU).
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
