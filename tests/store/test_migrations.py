"""Alembic migrations: an empty database upgrades to exactly the schema of `store.tables`."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from opendcc.store.engine import Store, open_store
from opendcc.store.tables import metadata

HEAD = "0004"


def _diff(store: Store) -> list[object]:
    with store.begin() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_empty_database_migrates_to_the_model_schema(fresh_store: Store) -> None:
    assert _diff(fresh_store) == []
    with fresh_store.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert set(metadata.tables) <= tables
    assert version == HEAD


def test_opening_twice_migrates_once(sqlite_url: str) -> None:
    open_store(sqlite_url).close()
    store = open_store(sqlite_url)
    assert _diff(store) == []
    store.close()


def test_in_memory_store_is_private() -> None:
    a, b = open_store("sqlite://"), open_store("sqlite://")
    with a.begin() as conn:
        conn.execute(text("INSERT INTO users VALUES ('x', 'n', 'IS', NULL)"))
    with b.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_workers_opening_one_fresh_database_at_once_all_succeed(pg_databases: object) -> None:
    url = pg_databases.create()  # type: ignore[attr-defined]
    barrier = threading.Barrier(4)

    def open_it(_: int) -> list[object]:
        barrier.wait()
        store = open_store(url)
        try:
            return _diff(store)
        finally:
            store.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(open_it, range(4))) == [[]] * 4


def test_upgrade_from_the_first_revision_keeps_the_data(fresh_store: Store) -> None:
    # Rebuild the first schema, put a device in, and upgrade: the device is still there.
    with fresh_store.begin() as conn:
        conn.execute(text("DROP TABLE registration"))
        conn.execute(text("DROP TABLE cos_switch"))
        conn.execute(text("DROP TABLE dcc_schedules"))
        for table in ("inventory", "audit", "outbox", "request_counters", "users", "alembic_version"):
            conn.execute(text(f"DROP TABLE {table}"))
    fresh_store.migrate("0001")
    with fresh_store.begin() as conn:
        conn.execute(text(
            "INSERT INTO inventory (device_id, device_type, status, manufacturer, model, smets) "
            "VALUES ('00-DB-12-34-56-78-90-A0', 'ESME', 'Commissioned', 'm', 'x', 'SMETS2')"
        ))
    fresh_store.migrate()
    assert _diff(fresh_store) == []
    with fresh_store.begin() as conn:
        row = conn.execute(text("SELECT device_id, s1sp FROM inventory")).one()
    assert tuple(row) == ("00-DB-12-34-56-78-90-A0", None)
