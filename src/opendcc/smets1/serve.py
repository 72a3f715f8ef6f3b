"""SMETS1 in `opendcc serve`: adopted SMETS1 meters answered over DUIS, the migration
progress API, and S1SP alerts relayed to suppliers, on a running gateway.

Providers come from `OPENDCC_SMETS1_PROVIDERS` (`alpha=http://127.0.0.1:9101,beta=127.0.0.1:9102`),
as `opendcc smets1 run` reaches them; without it, SRVs for adopted meters get E21 (no head-end)
and everything else is as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import FastAPI

from opendcc.ids import EUI64
from opendcc.smets1.adapters import connect
from opendcc.smets1.adapters.base import ProviderAdapter
from opendcc.smets1.alerts import S1SPAlertRelay
from opendcc.smets1.api import create_smets1_router
from opendcc.smets1.device_layer import Smets1DeviceLayer
from opendcc.smets1.migration import DCC_ID
from opendcc.smets1.response import S1SPSigner
from opendcc.smets1.service import Smets1Service

PROVIDERS_ENV: Final = "OPENDCC_SMETS1_PROVIDERS"
ALERT_POLL_SECONDS: Final = 2.0


def providers_from_env(text: str | None = None) -> dict[str, str]:
    """`name=address,...` (default: the environment variable) as {provider: address}."""
    text = os.environ.get(PROVIDERS_ENV, "") if text is None else text
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, address = part.partition("=")
        if not sep or not address:
            raise ValueError(f"{PROVIDERS_ENV}: expected name=address, got {part!r}")
        out[name.strip()] = address.strip()
    return out


@dataclass
class Smets1Serving:
    """What `attach_smets1` started; `close()` stops the alert relay and the adapters."""

    service: Smets1Service
    relay: S1SPAlertRelay
    adapters: dict[str, ProviderAdapter]
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start_alerts(self, every: float = ALERT_POLL_SECONDS) -> None:
        """Poll the providers' alert feeds in a daemon thread."""

        def loop() -> None:
            while not self.stop.wait(every):
                self.relay.poll()

        if self.adapters and self.thread is None:
            self.thread = threading.Thread(target=loop, name="opendcc-s1sp-alerts", daemon=True)
            self.thread.start()

    def close(self) -> None:
        """Stop polling and close the provider connections."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(5)
        for adapter in self.adapters.values():
            adapter.close()


def attach_smets1(services: Any, app: FastAPI | None = None, *,
                  providers: Mapping[str, str] | None = None) -> Smets1Serving:
    """Put the SMETS1 route in front of the gateway's device layer (`Smets1DeviceLayer`, other
    devices to the layer that was there), mount `/smets1` progress on `app`, start the relay.

    `services` is a `gateway.wiring.Services`. The S1SP signs with the DCC's XML signing key
    (the reference key store has no S1SP organisation).
    """
    data_service = services.gateway.service
    dcc = services.keystore.xml_signing(EUI64.parse(DCC_ID))
    if dcc is None or dcc.private_key is None:
        raise RuntimeError(f"no DCC XML signing key for {DCC_ID} in the key store")
    signer = S1SPSigner(dcc.private_key, dcc.certificate)
    adapters = {name: connect(name, address)
                for name, address in (providers_from_env() if providers is None else providers).items()}
    service = Smets1Service(services.store, adapters, services.clock, signer, signer)
    data_service.devices = Smets1DeviceLayer(service, data_service.devices)
    if app is not None:
        app.include_router(create_smets1_router(services.store))
    serving = Smets1Serving(service, S1SPAlertRelay(services.store, adapters, services.clock,
                                                    signer, signer), adapters)
    serving.start_alerts()
    return serving
