"""End to end: `opendcc serve` as a separate process, driven over HTTP, restarted in between.

The SDK and raw XML signed by the DCC's own tool both talk to it; after a restart, replay
protection still holds and an async response that could not be delivered before is delivered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_support import (
    DCC,
    ESME,
    NETWORK_OPERATOR,
    SUPPLIER,
    XML,
    Server,
    dcc_tool_signed,
    free_port,
    response_code,
)

import dcctool
from opendcc.client import DccClient
from opendcc.client.counter import Counter
from opendcc.client.receiver import Receiver
from opendcc.store import outbox as outbox_repo
from opendcc.store.engine import open_store

pytestmark = [pytest.mark.java, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path)
    srv.start()
    yield srv
    srv.stop()


def test_sdk_and_dcc_tool_requests_and_replay_protection_survive_a_restart(
    server: Server, tmp_path: Path
) -> None:
    inventory = {"ReadInventory": {"DeviceID": ESME.hyphenated}}
    with DccClient.from_reference(SUPPLIER, server.url,
                                  counter=Counter(tmp_path / "supplier.counter")) as sdk:
        assert sdk.request("8.2", inventory).response_code == "I0"

        raw = dcc_tool_signed("8.2", inventory, originator=NETWORK_OPERATOR, target=DCC,
                              counter=7_000)
        reply = httpx.post(f"{server.url}/api/v1/serviceD", content=raw, headers=XML)
        assert reply.status_code == 200 and response_code(reply.content) == "I0"
        ok, diagnostics = dcctool.validate(reply.content)
        assert ok, diagnostics

        server.restart()

        replayed = httpx.post(f"{server.url}/api/v1/serviceD", content=raw, headers=XML)
        assert replayed.status_code == 409
        assert "7000" in replayed.text
        assert sdk.request("8.2", inventory).response_code == "I0"


def test_a_pending_async_response_is_delivered_after_a_restart(
    server: Server, tmp_path: Path
) -> None:
    receiver_port = free_port()  # nothing listens here until after the restart
    cli = subprocess.run(
        [sys.executable, "-m", "opendcc", "users", "set-response-url", SUPPLIER.hyphenated,
         f"http://127.0.0.1:{receiver_port}/", "--store",
         f"sqlite:///{tmp_path / 'opendcc.sqlite3'}"],
        capture_output=True, text=True, check=False, env={**os.environ,
                                                         "OPENDCC_DATA": str(tmp_path)},
    )
    assert cli.returncode == 0, cli.stderr
    signed = dcc_tool_signed("4.1.1", {"ReadInstantaneousImportRegisters": None},
                             originator=SUPPLIER, target=ESME, counter=9_000)
    ack = httpx.post(f"{server.url}/api/v1/serviceS", content=signed, headers=XML)
    assert response_code(ack.content) == "I99"
    request_id = f"{SUPPLIER}:{ESME}:9000"

    # Wait until the meter's answer is queued and the worker has tried (and failed: nothing
    # listens) to deliver it; then stop the server with the answer still pending.
    store = open_store(f"sqlite:///{tmp_path / 'opendcc.sqlite3'}")
    deadline = time.monotonic() + 30
    pending: list[outbox_repo.OutboxItem] = []
    while time.monotonic() < deadline:
        with store.connect() as conn:
            pending = outbox_repo.for_request(conn, request_id)
        if pending and all(p.attempts >= 1 for p in pending):
            break
        time.sleep(0.2)
    server.stop()
    store.close()
    assert pending and all(p.delivered_at is None and p.attempts >= 1 for p in pending)

    with DccClient.from_reference(SUPPLIER, server.url, counter=Counter(tmp_path / "c")) as sdk, \
            Receiver(sdk.verify_response, port=receiver_port) as receiver:
        server.start()
        response = receiver.wait_for(request_id, timeout=30)
    assert response.response_code == "I0"  # the emulated meter answered
    ok, diagnostics = dcctool.validate(response.xml)
    assert ok, diagnostics
