"""A gateway on a private in-memory store and SMKI repository, driven in-process over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gateway_support import SUPPLIER

from opendcc.client import DccClient
from opendcc.client.counter import Counter
from opendcc.gateway.app import create_app
from opendcc.gateway.wiring import GatewayConfig, Services, build_services


@pytest.fixture
def services() -> Iterator[Services]:
    svc = build_services(GatewayConfig(store_url="sqlite://", smki_url="sqlite://"))
    yield svc
    svc.close()


@pytest.fixture
def http(services: Services) -> TestClient:
    return TestClient(create_app(services=services))


@pytest.fixture
def supplier(http: TestClient, tmp_path: Path) -> Iterator[DccClient]:
    client = DccClient.from_reference(SUPPLIER, "http://testserver", http=http,
                                      counter=Counter(tmp_path / "supplier.counter"))
    yield client
    client.close()
