"""Emulated devices: memory per idle premises and device operations per second.

Memory: tracemalloc over 10,000 idle premises (hub CHF + GPF, ESME, GSME, a quarter with a
PPMID) built by `Estate.demo`, beside two baselines measured in the same run: the same state
held as one plain dict per device, and meters that store their 13-month half-hour profile
(what the lazily derived profile avoids). With SMKI keys: premises whose devices hold
credentials made on demand (`devices.gbcs.keys.DeviceCredentials`), idle and after every
device was used once, beside the eager `issue_device_credentials` key store. Operations: ESME/GSME operations per second beside a
dict-per-device register read and update, and a WAN round trip on the simulated clock beside
calling the device directly.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from array import array
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.report import Section
from opendcc.clock import SimulatedClock
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs.keys import DeviceCredentials, EstateKeyStore, issue_device_credentials
from opendcc.devices.prepayment import Utrn
from opendcc.devices.wan import ZERO_LATENCY
from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import KeyStore, KeyUsage
from opendcc.smki.profile import CertificateKind
from opendcc.smki.repository import CertificateRepository

PREMISES = 10_000
#: Premises whose devices get SMKI credentials (issuing costs ~2.6 ms per certificate).
KEYED_PREMISES = 100
SECONDS = 1.0
ROUNDS = 3
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _rates(candidates: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Calls per second of each candidate, best of ROUNDS interleaved rounds (shared machine)."""
    best = dict.fromkeys(candidates, 0.0)
    for fn in candidates.values():
        for _ in range(5):
            fn()
    for _ in range(ROUNDS):
        for name, fn in candidates.items():
            count, start = 0, time.perf_counter()
            deadline = start + SECONDS / ROUNDS
            while True:
                fn()
                count += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[name] = max(best[name], count / (now - start))
    return best


def _measure(build: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, built


def _dict_estate(n: int) -> list[dict[str, Any]]:
    """Baseline: the same premises state as plain dicts, one per device."""
    out = []
    for i in range(n):
        hub = {"id": f"0A-00-00-{i:010X}"[:23], "type": "CHF", "device_log": [
            {"device": f"dev{i}-{k}", "type": t, "joined": True} for k, t in
            enumerate(("GPF", "ESME", "GSME"))], "powered": True, "wan_connected": True,
            "clock_offset_s": 0, "firmware": "1.0.0"}
        meters = [{"id": f"dev{i}-{k}", "type": t, "mpxn": f"{i:013d}", "import_wh": i * 7,
                   "export_wh": 0, "tou_wh": [i * 7], "tariff": {"prices": [2450],
                   "standing_charge": 5000}, "payment_mode": "credit", "balance": 0,
                   "supply_state": "enabled", "firmware": "1.0.0", "counters": {},
                   "event_log": [], "pending": []} for k, t in ((1, "ESME"), (2, "GSME"))]
        gpf = {"id": f"dev{i}-0", "type": "GPF", "device_log": [f"dev{i}-2"]}
        out.append({"chf": hub, "gpf": gpf, "esme": meters[0], "gsme": meters[1]})
    return out


def _stored_profiles(n: int) -> list[tuple[array[int], array[int]]]:
    """Baseline: each premises' two meters keep 13 months of half-hours (32-bit Wh)."""
    hh = 396 * 48
    return [(array("i", bytes(4 * hh)), array("i", bytes(4 * hh))) for _ in range(n)]


def _keys_section(clock: SimulatedClock) -> Section:
    """Memory per premises with SMKI device credentials: on demand (idle, then every device
    used once) beside the eager key store of every private key and certificate."""
    sec = Section("Devices: memory per premises with SMKI device keys (tracemalloc)",
                  ["model", "premises", "bytes per premises", "vs eager key store"])
    n = KEYED_PREMISES
    remote = KeyStore()
    estate = Estate.demo(n, seed=3, clock=clock, boxed=False)
    idle, _ = _measure(lambda: Estate.demo(n, seed=3, clock=clock, boxed=False))
    eager_authority = Authority.open(CertificateRepository("sqlite://"))
    eager, _store = _measure(lambda: issue_device_credentials(
        eager_authority, estate.device_ids(), at=clock.now()))
    authority = Authority.open(CertificateRepository("sqlite://"))
    creds = DeviceCredentials.open(authority, estate.hosts, manufactured_at=clock.now())
    lazy_idle, keys = _measure(lambda: EstateKeyStore(creds, remote))

    def use_every_device() -> None:
        for device_id in estate.device_ids():
            eui = EUI64.parse(device_id)
            keys.private_key(eui, KeyUsage.DS)
            keys.certificate(eui, KeyUsage.KA)

    started = time.perf_counter()
    used, _ = _measure(use_every_device)
    first_use_s = time.perf_counter() - started
    published = authority.repository.search(kind=CertificateKind.DEVICE)
    der = sum(len(c.certificate.der) for c in published)
    base = eager / n
    sec.add("idle premises, device models only (Estate.demo)", n, idle / n, idle / n / base)
    sec.add("idle premises + on-demand credentials (DeviceCredentials)", n,
            (idle + lazy_idle) / n, (idle + lazy_idle) / n / base)
    sec.add(f"+ every device used once (certificates issued; LRU of {creds.live} live)", n,
            (idle + lazy_idle + used) / n, (idle + lazy_idle + used) / n / base)
    sec.add("baseline: eager key store (issue_device_credentials), keys only", n, base, 1.0)
    sec.notes.append(
        f"The {len(published)} certificates the on-demand credentials issued live in the SMKI "
        f"repository (a database; {der / n:,.0f} bytes of DER per premises), not in the device "
        f"models. First use of every device (derive, issue, publish): {first_use_s / n * 1000:,.1f}"
        " ms per premises.")
    return sec


def run() -> list[Section]:
    """Measure and report."""
    mem = Section("Devices: memory per idle premises (tracemalloc)",
                  ["model", "premises measured", "bytes per premises", "vs opendcc"])
    clock = SimulatedClock(T0)
    ours, estate = _measure(lambda: Estate.demo(PREMISES, seed=1, clock=clock, boxed=False))
    dicts, _ = _measure(lambda: _dict_estate(PREMISES))
    stored, _ = _measure(lambda: _stored_profiles(100))
    per = ours / PREMISES
    mem.add("opendcc Estate.demo (slots, derived registers and profiles)", PREMISES, per, 1.0)
    mem.add("baseline: plain dict per device, same state", PREMISES, dicts / PREMISES,
            dicts / PREMISES / per)
    mem.add("baseline: stored 13-month half-hour profiles only", 100, stored / 100,
            stored / 100 / per)
    mem.notes.append(f"Target: <= 4,096 bytes per idle premises; measured {per:,.0f}.")

    keyed = _keys_section(clock)

    p = estate.premises[17]
    esme, gsme = p.esme, p.gsme
    assert gsme is not None
    counter = [0]
    clock.advance(3 * 86400)

    def now() -> datetime:
        return clock.now()

    def top_up() -> object:
        counter[0] += 1
        return esme.top_up(Utrn(1, counter[0]), now())

    def tick() -> object:
        clock.advance(1)
        return esme.read_instantaneous_import_registers(now())

    flat = _dict_estate(1)[0]["esme"]

    def dict_read() -> object:
        return (flat["import_wh"], tuple(flat["tou_wh"]))

    def dict_update() -> object:
        flat["balance"] += 1
        flat["tariff"] = {"prices": [flat["balance"] % 5000], "standing_charge": 5000}
        return flat

    ops = _rates({
        "ESME read registers (ECS17b)": lambda: esme.read_instantaneous_import_registers(now()),
        "ESME read registers, clock +1 s each (settles)": tick,
        "ESME update prices (ECS01b)": lambda: esme.update_tariff_prices(
            now(), tou_prices=(counter[0] % 5000,)),
        "ESME top-up (CS01a)": top_up,
        "ESME read 1 day half-hour profile (ECS22b)": lambda: esme.read_half_hour_profile(
            now() - timedelta(days=1), now(), now()),
        "GPF read GSME registers (GCS13a)": lambda: p.gpf and p.gpf.read_gsme_import_registers(now()),
        "Estate.execute via HAN rules (ECS17b)": lambda: estate.execute(
            esme.id, lambda d, t: d.read_instantaneous_import_registers(t)),
        "baseline: dict-per-device register read": dict_read,
        "baseline: dict-per-device tariff update": dict_update,
    })
    rate = Section("Devices: operations per second (1 core)", ["operation", "ops/s"])
    for name, value in ops.items():
        rate.add(name, value)

    wan_clock = SimulatedClock(T0)
    wan_estate = Estate.demo(100, seed=2, clock=wan_clock, boxed=False)
    wan_estate.wan.profile = ZERO_LATENCY
    target = wan_estate.premises[5].esme

    def over_wan() -> object:
        d = wan_estate.send(target.id, lambda dev, t: dev.read_instantaneous_import_registers(t))
        wan_clock.advance(0)
        assert d.ok
        return d

    def direct() -> object:
        return target.read_instantaneous_import_registers(wan_clock.now())

    wan = _rates({"over the simulated WAN (zero latency, HAN rules, alert forwarding)": over_wan,
                  "baseline: the same read called directly": direct})
    w = Section("Devices: simulated WAN round trip (ECS17b)", ["path", "requests/s", "vs direct"])
    base = wan["baseline: the same read called directly"]
    for name, value in wan.items():
        w.add(name, value, value / base)
    w.notes.append("A deadline timer is armed only for deliveries that fail or may arrive late.")
    return [mem, keyed, rate, w]


if __name__ == "__main__":
    for section in run():
        print(section.markdown())
