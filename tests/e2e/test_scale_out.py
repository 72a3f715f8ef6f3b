"""Scale-out: two `opendcc serve` processes on one PostgreSQL store.

Replay protection holds across processes (a counter accepted by one is refused by the other),
and an async response is delivered once although both delivery workers poll the same outbox.
PostgreSQL: `OPENDCC_PG_URL` if set, else the server on 127.0.0.1:5432; the test creates and
drops its own database.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from e2e_support import (
    DCC,
    ESME,
    NETWORK_OPERATOR,
    SUPPLIER,
    XML,
    Server,
    dcc_tool_signed,
    response_code,
)

from opendcc.client import DccClient
from opendcc.client.counter import Counter
from opendcc.client.receiver import Receiver
from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore
from opendcc.smki.repository import CertificateRepository

pytestmark = [pytest.mark.java, pytest.mark.slow]

OTHER_USER = EUI64.parse("00-DB-12-34-56-78-00-04")


def _admin_url() -> str:
    env = os.environ.get("OPENDCC_PG_URL")
    if env:
        return env.replace("postgresql+psycopg://", "postgresql://")
    with socket.socket() as s:
        s.settimeout(1)
        if s.connect_ex(("127.0.0.1", 5432)) != 0:
            pytest.fail("no PostgreSQL: set OPENDCC_PG_URL or run one on 127.0.0.1:5432")
    return "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    admin = _admin_url()
    name = f"opendcc_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield admin.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def two_servers(pg_url: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[Server, Server]]:
    """Started once for the module: each test uses its own user or counters."""
    tmp_path = tmp_path_factory.mktemp("scale-out")
    servers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        servers.append(Server(tmp_path / name, "--store", pg_url))
    try:
        for server in servers:  # one after the other: the first migrates and seeds
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def test_a_counter_accepted_by_one_process_is_refused_by_the_other(
    two_servers: tuple[Server, Server],
) -> None:
    a, b = two_servers
    inventory = {"ReadInventory": {"DeviceID": ESME.hyphenated}}
    first = dcc_tool_signed("8.2", inventory, originator=NETWORK_OPERATOR, target=DCC,
                            counter=100)
    reply = httpx.post(f"{a.url}/api/v1/serviceD", content=first, headers=XML)
    assert response_code(reply.content) == "I0"
    replayed = httpx.post(f"{b.url}/api/v1/serviceD", content=first, headers=XML)
    assert replayed.status_code == 409
    later = dcc_tool_signed("8.2", inventory, originator=NETWORK_OPERATOR, target=DCC,
                            counter=101)
    assert response_code(httpx.post(f"{b.url}/api/v1/serviceD", content=later,
                                     headers=XML).content) == "I0"


def test_an_async_response_is_delivered_once_by_two_workers(
    two_servers: tuple[Server, Server], tmp_path: Path
) -> None:
    a, _ = two_servers  # the SDK talks to one; both run delivery workers
    with DccClient.from_reference(SUPPLIER, a.url, counter=Counter(tmp_path / "c")) as sdk:
        ack = sdk.submit("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME)
        assert ack.response_code == "I99" and ack.request_id is not None
        receiver: Receiver = sdk.receiver()
        response = receiver.wait_for(ack.request_id, timeout=30)
        time.sleep(1.0)  # both workers have polled several times since
        assert response.response_code == "I0"  # the emulated meter answered
        assert receiver.received(ack.request_id) == [response]
        assert receiver.duplicates == 0


def test_a_revocation_reaches_every_process(two_servers: tuple[Server, Server],
                                            pg_url: str) -> None:
    a, b = two_servers
    inventory = {"ReadInventory": {"DeviceID": ESME.hyphenated}}
    first = dcc_tool_signed("8.2", inventory, originator=OTHER_USER, target=DCC, counter=200)
    assert response_code(httpx.post(f"{b.url}/api/v1/serviceD", content=first,
                                    headers=XML).content) == "I0"
    credential = KeyStore.from_reference().xml_signing(OTHER_USER)
    assert credential is not None
    repository = CertificateRepository(pg_url)  # the SMKI repository both processes share
    try:
        repository.revoke(credential.serial, at=datetime.now(UTC) - timedelta(seconds=1),
                          reason="keyCompromise")
    finally:
        repository.close()
    later = dcc_tool_signed("8.2", inventory, originator=OTHER_USER, target=DCC, counter=201)
    for server in (a, b):
        refused = httpx.post(f"{server.url}/api/v1/serviceD", content=later, headers=XML)
        assert refused.status_code == 401 and "revoked" in refused.text
