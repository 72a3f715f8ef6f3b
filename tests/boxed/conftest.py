"""Fixtures of the DCC Boxed compatibility suite: the published Node clients (installed with npm
at test time into the gitignored tests/boxed/node/node_modules), and one `opendcc serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from boxed_support import Server, install_node_clients


@pytest.fixture(scope="session")
def boxed_clients() -> Path:
    """`@smartdcc/duis-sign-wrap` and `@smartdcc/duis-parser`, installed now; fails without npm."""
    return install_node_clients()


@pytest.fixture(scope="session")
def boxed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`opendcc serve` as `make run` starts it (demo estate, ZAZ1 users), on free ports."""
    server = Server(tmp_path_factory.mktemp("boxed-serve"))
    server.start()
    yield server
    server.stop()
