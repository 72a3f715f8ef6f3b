"""Test support: an in-process adapter over a provider estate, registration data, provider processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import insert

from opendcc.ids import EUI64
from opendcc.smets1.adapters.base import (
    FROM_STATUS,
    ConnectionDropped,
    DeviceResult,
    MeterInfo,
    ProviderUnavailable,
    Result,
)
from opendcc.smets1.providers.estate import SUPPLIERS, AlertKind, Estate, Meter, Op, ProviderAlert
from opendcc.store.engine import Store
from opendcc.store.tables import registration
from opendcc.store.users import seed_reference_users

NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class LocalAdapter:
    """A ProviderAdapter calling an Estate directly (no process), honouring outage and drop faults."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.name = estate.provider
        self.drop_next = False

    def _check(self) -> None:
        if self.estate.faults.in_outage():
            raise ProviderUnavailable(self.name, "out of service")

    def query(self, ids: list[str]) -> dict[str, MeterInfo | Result]:
        self._check()
        out: dict[str, MeterInfo | Result] = {}
        for d in ids:
            m = self.estate.meters.get(d)
            out[d] = Result.UNKNOWN_DEVICE if m is None else MeterInfo(
                d, m.model, m.firmware, m.fuel, m.mpxn, m.owner, m.dormant)
        return out

    def _bulk(self, items: list[tuple[str, object]], act: object) -> dict[str, DeviceResult]:
        self._check()
        if self.drop_next:
            self.drop_next = False
            for d, arg in items[: len(items) // 2]:
                act(d, arg)  # type: ignore[operator]
            raise ConnectionDropped(self.name, "dropped mid-call")
        out = {}
        for d, arg in items:
            status = act(d, arg)  # type: ignore[operator]
            result = Result.GARBAGE if self.estate.garbled(d, "key") else FROM_STATUS[status]
            out[d] = DeviceResult(d, result)
        return out

    def replace_credentials(self, new_owner: str, expected: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        return self._bulk(list(expected), lambda d, h: self.estate.replace_credentials(d, h, new_owner))

    def restore_credentials(self, from_owner: str, owners: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        return self._bulk(list(owners), lambda d, h: self.estate.restore_credentials(d, from_owner, h))

    def commands(self, caller: str, commands: list[tuple[str, Op, int]]) -> dict[str, DeviceResult]:
        self._check()
        out = {}
        for d, op, arg in commands:
            status, value = self.estate.command(caller, d, op, arg)
            out[d] = DeviceResult(d, FROM_STATUS[status], value)
        return out

    def settle(self) -> None:
        pass

    def alerts(self, caller: str, after: int) -> list[ProviderAlert]:
        self._check()
        return self.estate.alerts_for(caller, after)

    def raise_alert(self, device_id: str, kind: AlertKind, detail: str = "", utrn: str = "") -> int:
        alert = self.estate.raise_alert(device_id, kind, detail, utrn)
        assert alert is not None
        return alert.sequence

    def set_faults(self, settings: dict[str, object]) -> None:
        self.estate.faults.update(settings)

    def close(self) -> None:
        pass


def gaining_supplier(installing: str) -> str:
    """The supplier a dormant meter's customer switched to: the other reference supplier."""
    return next(s for s in SUPPLIERS if s != installing)


def registered_supplier(meter: Meter) -> str:
    """Who serves the meter point: the installing supplier, or for a dormant meter the gaining one."""
    return gaining_supplier(meter.installing_supplier) if meter.dormant else meter.installing_supplier


def register_estate(store: Store, estate: Estate) -> None:
    """Users and registration data for every meter (dormant meters: the gaining supplier)."""
    with store.begin() as conn:
        seed_reference_users(conn)
        # one executemany: the same rows `inventory.register` writes, without its per-row upsert
        conn.execute(insert(registration), [
            {"mpxn": m.mpxn, "supplier_id": EUI64.parse(registered_supplier(m)).hyphenated,
             "network_operator_id": NETWORK_OPERATOR.hyphenated, "effective_from": EPOCH}
            for m in estate.meters.values()])


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def provider_process(provider: str, size: int, seed: int = 1, *extra: str) -> Iterator[str]:
    """Start `python -m opendcc.smets1.providers.<provider>`; yields its address for `adapters.connect`."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", f"opendcc.smets1.providers.{provider}",
                             "--port", str(port), "--size", str(size), "--seed", str(seed), *extra])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"provider {provider} did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}" if provider == "alpha" else f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
