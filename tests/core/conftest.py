"""An in-memory SQLite store per test (the PostgreSQL fixtures live in tests/store)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opendcc.store.engine import Store, open_store


@pytest.fixture
def memory_store() -> Iterator[Store]:
    """A private, migrated in-memory SQLite store."""
    store = open_store("sqlite://")
    yield store
    store.close()
