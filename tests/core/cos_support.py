"""Change of supplier through the Transitional CoS party in GBCS, for the core tests."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from fastapi.testclient import TestClient
from lxml import etree

from opendcc.client import DccClient
from opendcc.client.counter import Counter
from opendcc.config import reference_dir
from opendcc.core.alerts import registered_parties
from opendcc.core.device_layer import DeviceSide, serve_device_side
from opendcc.core.transitional_cos import Deliver, TransitionalCoS
from opendcc.gateway.app import create_app
from opendcc.gateway.wiring import GatewayConfig, Services, build_services
from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore
from opendcc.store.engine import open_store


@cache
def zaz1_path() -> tuple[x509.Certificate, ...]:
    """The certification path of the ZAZ1 suppliers' certificates (the Z1 issuing CA, as the
    RTDS 6.23 template gives it; SMKI publishes no CA certificates of the ZAZ1 test PKI)."""
    template = reference_dir() / "duis" / "templates" / \
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
    texts = etree.parse(str(template)).findall(".//{*}CertificationPathCertificates/{*}Certificate")
    return tuple(x509.load_der_x509_certificate(base64.b64decode("".join((t.text or "").split())))
                 for t in texts)


def path_of(_supplier: EUI64) -> list[Any]:
    """Every ZAZ1 supplier's path."""
    return list(zaz1_path())


def tcos(side: DeviceSide, deliver: Deliver | None = None) -> TransitionalCoS:
    """The DCC's Transitional CoS party over the side's SM WAN to its emulated estate."""
    return TransitionalCoS.over(side.router.endpoint, side.keys, side.layer.counter, path_of,
                                deliver=deliver)


class YearAgo:
    """The wall clock a year back: the gateway's view of certificate validity (supplier 2's
    ZAZ1 XML signing certificate expired on 2025-12-22)."""

    def now(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=365)


@contextmanager
def http_gateway() -> Iterator[tuple[Services, DeviceSide, TestClient]]:
    """An in-process gateway over the emulated DCC Boxed estate, its answers delivered by
    its worker, on a clock a year back."""
    store = open_store("sqlite://")
    service, side = serve_device_side(store, KeyStore.from_reference(), premises=0)
    services = build_services(GatewayConfig(store_url="sqlite://", smki_url="sqlite://",
                                            clock=YearAgo()),
                              service=service, store=store)
    side.connect(services.deliver, registered_parties(store, side.router.clock.now))
    services.worker.start(poll=0.05)
    try:
        yield services, side, TestClient(create_app(services=services))
    finally:
        services.worker.stop()
        side.router.clock.stop()  # type: ignore[attr-defined]
        services.close()


def client_for(user: EUI64, http: TestClient, tmp_path: Path) -> DccClient:
    """The SDK as `user`, over the in-process gateway, its counter under `tmp_path`."""
    return DccClient.from_reference(user, "http://testserver", http=http, timeout=20,
                                    counter=Counter(tmp_path / f"{user.hex}.counter"))
