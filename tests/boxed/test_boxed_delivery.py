"""The Receive Response Service as DCC Boxed users run it: the user registers its URL
(`opendcc users set-response-url`, or the admin endpoint), the gateway POSTs the DCC-signed
async response there, and the user's receiver answers 204 (delivered) or 400 (refused: never
retried). The receiver is node/receiver.js, checking each POST with the published clients."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from boxed_support import (
    NODE_DIR,
    SUPPLIER,
    Server,
    alert_code_of,
    dcc_alert,
    device_alert,
    device_response,
    future_dated_alert,
    now,
    request_id_of,
    response_code,
    sign_with_duis_sign_wrap,
    unsigned_template,
    vectors,
)

from opendcc.gateway.wiring import GatewayConfig, build_services
from opendcc.store import outbox as outbox_repo
from opendcc.store.engine import open_store

pytestmark = [pytest.mark.java, pytest.mark.slow]

TEMPLATE = "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"  # supplier -> ESME, CV 1, serviceS
RETRY_AFTER = 1.0  # the gateway's first retry would come this many seconds after a failure


@pytest.fixture(scope="module")
def receiver(boxed_clients: Path) -> Iterator[str]:
    """node/receiver.js on a free port; yields its base URL."""
    proc = subprocess.Popen(["node", "receiver.js"], cwd=NODE_DIR, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    assert port.isdigit(), f"receiver did not start: {proc.stderr.read() if proc.stderr else ''}"
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def _received(base: str, request_id: str) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = httpx.get(f"{base}/received", timeout=5).json()
    return [p for p in posts if p.get("requestId") == request_id.lower()]


def _wait_for(base: str, request_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _received(base, request_id)
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no response for {request_id} reached the receiver in {timeout} s")


def _outbox(server: Server, request_id: str) -> list[outbox_repo.OutboxItem]:
    store = open_store(server.store_url)
    try:
        with store.connect() as conn:
            return outbox_repo.for_request(conn, request_id)
    finally:
        store.close()


def _response_url(server: Server, user: str) -> str | None:
    users = httpx.get(f"{server.url}/admin/users", timeout=5).json()
    (entry,) = [u for u in users if u["user_id"] == user]
    url: str | None = entry["response_url"]
    return url


def test_receive_response_service_204_delivers_and_400_refuses_without_retry(
        boxed_server: Server, receiver: str) -> None:
    first, second = sign_with_duis_sign_wrap([unsigned_template(TEMPLATE)] * 2)

    # 1. registered with the CLI, as `make run` users would; the receiver accepts (204).
    cli = subprocess.run(
        [sys.executable, "-m", "opendcc", "users", "set-response-url", SUPPLIER.hyphenated,
         f"{receiver}/duis", "--store", boxed_server.store_url],
        capture_output=True, text=True, check=False,
        env={**os.environ, "OPENDCC_DATA": str(boxed_server.data)})
    assert cli.returncode == 0, cli.stderr
    assert _response_url(boxed_server, SUPPLIER.hyphenated) == f"{receiver}/duis"
    ack = boxed_server.post("serviceS", first)
    assert response_code(ack.content) == "I99"
    accepted = _wait_for(receiver, request_id_of(first))
    assert accepted["status"] == 204 and accepted["path"] == "/duis"
    assert accepted["contentType"].startswith("application/xml")
    assert accepted["valid"] and accepted["parsed"] and accepted["isResponse"], accepted
    # E20 while no device layer is wired to the gateway; I0 with the device's GBCS after.
    assert accepted["responseCode"] in {"E20", "I0"}, accepted
    (delivered,) = _outbox(boxed_server, request_id_of(first))
    assert delivered.delivered

    # 2. re-registered with the admin endpoint; this time the receiver refuses (400).
    put = httpx.put(f"{boxed_server.url}/admin/users/{SUPPLIER.hyphenated}/response-url",
                    json={"url": f"{receiver}/refuse"}, timeout=5)
    assert put.status_code == 200, put.text
    assert _response_url(boxed_server, SUPPLIER.hyphenated) == f"{receiver}/refuse"
    ack = boxed_server.post("serviceS", second)
    assert response_code(ack.content) == "I99"
    refused = _wait_for(receiver, request_id_of(second))
    assert refused["status"] == 400 and refused["path"] == "/refuse"
    time.sleep(3 * RETRY_AFTER)  # long enough for a retry, had there been one
    assert len(_received(receiver, request_id_of(second))) == 1
    (parked,) = _outbox(boxed_server, request_id_of(second))
    assert not parked.delivered
    assert parked.last_error is not None and "400" in parked.last_error


def test_device_responses_and_alerts_reach_the_receiver_through_the_gateways_delivery(
        receiver: str, tmp_path: Path) -> None:
    """The messages that reach a user later than its request go through `Services.deliver`
    (DCC signature, durable outbox, delivery worker) and pass the receiver's client checks."""
    def pick(kind: str, name: str) -> Any:
        (vector,) = [v for v in vectors(kind) if v.name == name]
        return vector

    at = now()
    response = pick("RESPONSE", "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    alert = pick("ALERT", "ECS80_NA_8F36_ALERT_GBCS.HEX")
    outcome = pick("FUTURE_DATED", "ECS08_2.1_8F66_FUTURE_DATED_SUCCESS_ALERT_CALENDAR_GBCS.HEX")
    messages = [  # (the user it is for, the message, the body the clients must see)
        (response.apdu.recipient, device_response(response, at), "GBCSPayload"),
        (alert.apdu.recipient, device_alert(alert, alert_code_of(alert), at),
         "DeviceAlertMessage"),
        (outcome.apdu.recipient, future_dated_alert(outcome, at), "FutureDatedDeviceAlertMessage"),
        (SUPPLIER, dcc_alert(SUPPLIER, 1, at), "DCCAlertMessage"),
    ]
    services = build_services(GatewayConfig(store_url=f"sqlite:///{tmp_path / 'dcc.sqlite3'}",
                                            check_certificates=False))
    try:
        for user in {user for user, _, _ in messages}:
            services.users.set_response_url(user.hyphenated, f"{receiver}/later")
        for user, message, _ in messages:
            services.deliver(user, message)
        report = services.worker.run_once()
    finally:
        services.close()
    assert report.delivered == len(messages), report
    arrived = [p for p in httpx.get(f"{receiver}/received", timeout=5).json()
               if p["path"] == "/later"]
    assert all(p["status"] == 204 and p["valid"] and p["parsed"] for p in arrived), arrived
    assert sorted(p["kind"] for p in arrived) == sorted(kind for _, _, kind in messages)
