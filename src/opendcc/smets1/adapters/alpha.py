"""Adapter for provider "alpha" (JSON over HTTP, jobs submitted then polled)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Final

import httpx

from opendcc.smets1.adapters.base import (
    FROM_STATUS,
    ConnectionDropped,
    DeviceResult,
    MeterInfo,
    ProtocolViolation,
    ProviderTimeout,
    ProviderUnavailable,
    Result,
)
from opendcc.smets1.providers.alpha import ALERT_TYPES
from opendcc.smets1.providers.estate import AlertKind, Op, ProviderAlert, Status

_STATUS: Final = {
    "OK": Status.OK, "NO_RESPONSE": Status.NOT_RESPONDING, "KEY_MISMATCH": Status.CREDENTIAL_MISMATCH,
    "NOT_SUPPORTED": Status.UNSUPPORTED, "FORBIDDEN": Status.NOT_AUTHORISED,
    "UNKNOWN_METER": Status.UNKNOWN_DEVICE,
}
_OPERATION: Final = {
    Op.READ_IMPORT: "readImport", Op.SET_TARIFF: "setTariff", Op.SET_PRICE: "setPrice",
    Op.SUPPLY_ENABLE: "supplyOn", Op.SUPPLY_DISABLE: "supplyOff", Op.SUPPLY_ARM: "supplyArm",
    Op.SUPPLY_STATUS: "supplyState",
}
BATCH: Final = 1000


def _result(item: Any) -> DeviceResult:
    status = _STATUS.get(str(item.get("status"))) if isinstance(item, dict) else None
    value = item.get("value") if isinstance(item, dict) else None
    if status is None or not isinstance(value, int):
        return DeviceResult(str(item.get("meterId")) if isinstance(item, dict) else "", Result.GARBAGE)
    return DeviceResult(str(item["meterId"]), FROM_STATUS[status], value)


class AlphaAdapter:
    """Talks to an alpha head-end at `base_url`."""

    name = "alpha"

    def __init__(self, base_url: str, *, timeout: float = 10.0, job_timeout: float = 30.0,
                 settle_timeout: float = 120.0) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=timeout)
        self.job_timeout = job_timeout
        self.settle_timeout = settle_timeout
        self.unfinished: set[str] = set()  # jobs given up on: they may still run

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            response = self.client.post(path, json=body)
        except httpx.ConnectError as exc:
            raise ProviderUnavailable(self.name, f"cannot connect: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(self.name, f"no answer to POST {path}") from exc
        except httpx.TransportError as exc:
            raise ConnectionDropped(self.name, f"connection lost during POST {path}: {exc}") from exc
        if response.status_code == 503:
            raise ProviderUnavailable(self.name, "head-end out of service (HTTP 503)")
        if response.status_code == 502:
            raise ConnectionDropped(self.name, f"connection dropped during POST {path} (HTTP 502)")
        if response.status_code >= 400:
            raise ProtocolViolation(self.name, f"HTTP {response.status_code} from POST {path}")
        return response

    def query(self, ids: list[str]) -> dict[str, MeterInfo | Result]:
        """POST /api/v2/meters/query, in batches."""
        found: dict[str, MeterInfo | Result] = {}
        for start in range(0, len(ids), BATCH):
            body = self._post("/api/v2/meters/query", {"ids": ids[start:start + BATCH]}).json()
            for m in body.get("meters", []):
                if m.get("status") != "OK":
                    found[m["meterId"]] = FROM_STATUS.get(_STATUS.get(m.get("status"), Status.UNKNOWN_DEVICE),
                                                          Result.GARBAGE)
                    continue
                found[m["meterId"]] = MeterInfo(m["meterId"], m["model"], m["fw"], m["fuel"], m["mpxn"],
                                                m["keyHolder"], bool(m["dormant"]))
        return found

    def _job(self, kind: str, caller: str, items: list[dict[str, Any]]) -> dict[str, DeviceResult]:
        results: dict[str, DeviceResult] = {}
        for start in range(0, len(items), BATCH):
            job = self._post("/api/v2/jobs", {"kind": kind, "caller": caller,
                                              "items": items[start:start + BATCH]}).json()
            body = self._wait(str(job["job_id"]), self.job_timeout)
            for item in body.get("results", []):
                result = _result(item)
                results[result.device_id] = result
        return results

    def _wait(self, job_id: str, limit: float) -> dict[str, Any]:
        """Poll a job until it is done; ProviderTimeout (job kept as unfinished) after `limit` s."""
        deadline = time.monotonic() + limit
        pause = 0.002
        while True:
            try:
                answer = self.client.get(f"/api/v2/jobs/{job_id}")
            except httpx.TransportError as exc:
                self.unfinished.add(job_id)
                raise ConnectionDropped(self.name, f"lost job {job_id}: {exc}") from exc
            if answer.status_code == 503:  # the job was accepted: it may have run
                self.unfinished.add(job_id)
                raise ConnectionDropped(self.name, f"job {job_id}: head-end went out of service")
            if answer.status_code != 200:
                self.unfinished.discard(job_id)  # unknown to the head-end: nothing left to run
                raise ConnectionDropped(self.name, f"job {job_id}: HTTP {answer.status_code}")
            body: dict[str, Any] = answer.json()
            if body.get("state") == "done":
                self.unfinished.discard(job_id)
                return body
            if time.monotonic() > deadline:
                self.unfinished.add(job_id)
                raise ProviderTimeout(self.name, f"job {job_id} still running after {limit} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def settle(self) -> None:
        """Wait for every job given up on to finish (its results are no longer needed)."""
        for job_id in sorted(self.unfinished):
            self._wait(job_id, self.settle_timeout)

    def replace_credentials(self, new_owner: str,
                            expected: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        """A "rekey" job."""
        return self._job("rekey", new_owner, [{"meterId": d, "currentHolder": h} for d, h in expected])

    def restore_credentials(self, from_owner: str,
                            owners: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        """A "restore" job."""
        return self._job("restore", from_owner, [{"meterId": d, "holder": h} for d, h in owners])

    def commands(self, caller: str, commands: list[tuple[str, Op, int]]) -> dict[str, DeviceResult]:
        """A "command" job."""
        return self._job("command", caller,
                         [{"meterId": d, "op": _OPERATION[op], "arg": a} for d, op, a in commands])

    def alerts(self, caller: str, after: int) -> list[ProviderAlert]:
        """GET /api/v2/alerts for the meters `caller` holds."""
        try:
            response = self.client.get("/api/v2/alerts", params={"holder": caller, "after": after})
        except httpx.TransportError as exc:
            raise ProviderUnavailable(self.name, f"alert feed: {exc}") from exc
        if response.status_code == 503:
            raise ProviderUnavailable(self.name, "head-end out of service (HTTP 503)")
        if response.status_code != 200:
            raise ProtocolViolation(self.name, f"HTTP {response.status_code} from GET /api/v2/alerts")
        try:
            return [ProviderAlert(int(a["seq"]), str(a["meterId"]), ALERT_TYPES[str(a["type"])],
                                  datetime.fromisoformat(str(a["time"])), str(a.get("detail", "")),
                                  str(a.get("utrn", "")))
                    for a in response.json()["alerts"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolViolation(self.name, f"malformed alert feed: {exc}") from exc

    def raise_alert(self, device_id: str, kind: AlertKind, detail: str = "", utrn: str = "") -> int:
        """POST /admin/alerts."""
        name = next(k for k, v in ALERT_TYPES.items() if v is kind)
        response = self.client.post("/admin/alerts", json={"meterId": device_id, "type": name,
                                                           "detail": detail, "utrn": utrn})
        response.raise_for_status()
        return int(response.json()["seq"])

    def set_faults(self, settings: dict[str, object]) -> None:
        """POST /admin/faults."""
        self.client.post("/admin/faults", json=settings).raise_for_status()

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
