"""Install, commission and change of supplier, at the DataService and on the emulated devices.

The DataService runs with its default device layer (no device behind the WAN yet), so "the DCC
accepts a device SRV" is: it passes access control (I99, or E20 for a Command Variant that
needs the transform). What the device does is checked on the emulated devices themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from core_requests import request_from, template
from cos_support import tcos

from opendcc.clock import SimulatedClock
from opendcc.core.change_of_supplier import (
    TRANSITIONAL_COS,
    check_switched,
    request_switch,
    run_switches,
)
from opendcc.core.device_layer import serve_device_side
from opendcc.core.service import DataService
from opendcc.devices.chf import CHF
from opendcc.devices.errors import NotAuthorised
from opendcc.devices.esme import ESME
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.devices.ppmid import PPMID
from opendcc.devices.security import CommandHeader, RemotePartyRole
from opendcc.devices.tariff import Tariff
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.response_codes import (
    DeviceNotReachable,
    DeviceStatusInvalid,
    DuisError,
    NotRegisteredParty,
)
from opendcc.ids import EUI64, MPxN
from opendcc.inventory import switches
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.installation import (
    EmulatedCredentials,
    Visit,
    install_and_commission,
    pre_notify,
)
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.registration_feed import RegistrationFeedError, apply_feed
from opendcc.inventory.switches import Step
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store, open_store
from store.conftest import pg_databases, pg_server  # noqa: F401  (PostgreSQL fixtures)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = EUI64.parse("90-B3-D5-1F-30-02-00-00")
DCC = "90-B3-D5-1F-30-00-00-02"
_counters = itertools.count(10_000)
PREMISES = 500  # 1,000 meter points


def visit(n: int) -> Visit:
    """A delivered dual-fuel premises: hub, ESME, GSME and PPMID, none installed yet."""
    base = f"00-DB-12-34-{n // 256:02X}-{n % 256:02X}"
    chf = CHF(EUI64.parse(f"{base}-00-00"))
    gpf = GPF(EUI64.parse(f"{base}-00-01"))
    esme = ESME(EUI64.parse(f"{base}-00-02"), mpxn=MPxN.parse(f"14{n:011d}"))
    gsme = GSME(EUI64.parse(f"{base}-00-03"), mpxn=MPxN.parse(f"7{n:08d}"))
    ppmid = PPMID(EUI64.parse(f"{base}-00-04"))
    return Visit(chf, gpf, esme, gsme, ppmid, uprn=f"2{n:011d}")


def feed(rows: list[tuple[str, EUI64, datetime]]) -> str:
    lines = ["mpxn,supplier_id,network_operator_id,effective_from"]
    lines += [f"{m},{s.hyphenated},{DNO.hyphenated},{w.isoformat()}" for m, s, w in rows]
    return "\n".join(lines) + "\n"


def points(v: Visit) -> list[str]:
    return [str(v.esme.mpxn), str(v.gsme.mpxn)] if v.gsme else [str(v.esme.mpxn)]


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store("sqlite://")
    seed_demo(s)
    yield s
    s.close()


def installed(store: Store, v: Visit, supplier: EUI64 = A) -> None:
    with store.begin() as conn:
        apply_feed(conn, feed([(p, supplier, NOW - timedelta(days=30)) for p in points(v)]), NOW)
        install_and_commission(conn, v, supplier, DNO, NOW)


def dcc_read(service: DataService, user: EUI64, device: EUI64) -> str:
    """ECS17b (SRV 4.1.1) from `user` to `device`: the code the DCC answers."""
    request = request_from(template("ECS17b_4.1.1_SINGLE"),
                           request_id=f"{user.hyphenated}:{device.hyphenated}:{next(_counters)}")
    try:
        return service.handle(request, user, "serviceS").code
    except DuisError as exc:
        return exc.code.value if exc.code else str(exc.http_status)


def dcc_tariff(service: DataService, user: EUI64, device: EUI64) -> str:
    """ECS01a (SRV 1.1.1, critical, CV 4 to serviceT): the code the DCC answers."""
    request = request_from(template("ECS01a_1.1.1_IMMEDIATE_BLOCK"),
                           request_id=f"{user.hyphenated}:{device.hyphenated}:{next(_counters)}")
    try:
        return service.handle(request, user, "serviceT").code
    except DeviceNotReachable:
        return "accepted"  # passed access control; no transform behind the default layer
    except DuisError as exc:
        return exc.code.value if exc.code else str(exc.http_status)


def on_device(device: ESME | GSME, user: EUI64, counter: int) -> None:
    """A supplier-signed command reaching the device: its trust anchor decides."""
    device.accept(CommandHeader(user.hyphenated, RemotePartyRole.SUPPLIER, counter), NOW)


def test_reads_are_refused_before_commissioning_and_work_after(store: Store) -> None:
    v = visit(1)
    service = DataService(store, load_catalogue(), SimulatedClock(NOW))
    with store.begin() as conn:
        apply_feed(conn, feed([(p, A, NOW - timedelta(days=30)) for p in points(v)]), NOW)
        pre_notify(conn, v)
    assert dcc_read(service, A, v.esme.eui) == "E5"  # Pending: the DCC does not address it
    with store.begin() as conn:
        for d in v.devices():
            inventory_repo.set_status(conn, d.eui, DeviceStatus.INSTALLED_NOT_COMMISSIONED)
    assert dcc_read(service, A, v.esme.eui) == "E5"  # installed, not yet commissioned: no reads
    with store.begin() as conn:
        for d in v.devices():
            inventory_repo.delete_device(conn, d.eui)
        install_and_commission(conn, v, A, DNO, NOW)
        esme = inventory_repo.get_device(conn, v.esme.eui)
        ppmid = inventory_repo.get_device(conn, v.ppmid.eui)  # type: ignore[union-attr]
    assert esme is not None and esme.status is DeviceStatus.COMMISSIONED
    assert ppmid is not None and ppmid.status is DeviceStatus.COMMISSIONED
    assert dcc_read(service, A, v.esme.eui) == "I99"
    assert v.chf.check_reachable(v.esme.id).joined


def test_installing_for_a_meter_point_registered_to_another_supplier_is_e4(store: Store) -> None:
    v = visit(2)
    with store.begin() as conn:
        apply_feed(conn, feed([(p, B, NOW - timedelta(days=30)) for p in points(v)]), NOW)
    with pytest.raises(NotRegisteredParty), store.begin() as conn:
        install_and_commission(conn, v, A, DNO, NOW)
    with store.begin() as conn:
        assert inventory_repo.get_device(conn, v.chf.eui) is None  # nothing written


def test_installing_a_device_already_in_inventory_is_e5(store: Store) -> None:
    v = visit(3)
    installed(store, v)
    with pytest.raises(DeviceStatusInvalid), store.begin() as conn:
        install_and_commission(conn, v, A, DNO, NOW)


def test_dual_fuel_install_then_change_of_supplier_scenario(store: Store) -> None:
    """Acceptance: A installs, reads, sets a tariff; the customer switches to B; B's CoS
    completes; B reads and sets a tariff; A is refused at the DCC and on the device."""
    v = visit(4)
    service = DataService(store, load_catalogue(), SimulatedClock(NOW))
    installed(store, v)
    tariff = Tariff(tou_prices=(3100, 1400), switching=((0, 1), (420, 0)))
    assert dcc_read(service, A, v.esme.eui) == "I99"
    assert dcc_tariff(service, A, v.esme.eui) == "accepted"
    on_device(v.esme, A, 1)
    v.esme.update_tariff(tariff, NOW)
    v.esme.read_instantaneous_import_registers(NOW)

    switch_at = NOW + timedelta(days=1)
    with store.begin() as conn:
        apply_feed(conn, feed([(p, B, switch_at) for p in points(v)]), NOW)
    later = switch_at + timedelta(minutes=1)
    service.clock = SimulatedClock(later)
    credentials = EmulatedCredentials.of(v.devices())
    with store.begin() as conn:
        request_switch(conn, B, v.esme.mpxn, later)  # type: ignore[arg-type]
    assert run_switches(store, credentials, later) == 2
    assert check_switched(store, credentials, later) == []

    assert dcc_read(service, B, v.esme.eui) == "I99"
    assert dcc_tariff(service, B, v.gsme.eui) == "accepted"  # type: ignore[union-attr]
    on_device(v.esme, B, 1)
    v.esme.update_tariff(tariff, later)
    assert dcc_read(service, A, v.esme.eui) == "E4"
    with pytest.raises(NotAuthorised):
        on_device(v.esme, A, 2)
    for meter in (v.esme, v.gsme):
        assert credentials.supplier_anchor(meter.eui) == B  # type: ignore[union-attr]
        assert meter.anchors.get(RemotePartyRole.TRANSITIONAL_COS).entity == TRANSITIONAL_COS.hyphenated  # type: ignore[union-attr]


def test_switch_requests_that_are_not_the_registered_suppliers_are_e4(store: Store) -> None:
    v = visit(5)
    installed(store, v)
    with store.begin() as conn:
        apply_feed(conn, feed([(str(v.esme.mpxn), B, NOW + timedelta(hours=1))]), NOW)
    later = NOW + timedelta(hours=2)
    with store.begin() as conn:
        with pytest.raises(NotRegisteredParty, match="not the registered supplier"):
            request_switch(conn, A, v.esme.mpxn, later)  # type: ignore[arg-type]  # old supplier
        with pytest.raises(NotRegisteredParty, match="no registration"):
            request_switch(conn, B, MPxN.parse("1399999999999"), later)
        assert switches.all_switches(conn) == []


def test_switch_dated_in_the_past_and_racing_suppliers_change_nothing(store: Store) -> None:
    v = visit(6)
    installed(store, v)
    mpan = str(v.esme.mpxn)
    with store.begin() as conn, pytest.raises(RegistrationFeedError, match="in the past"):
        apply_feed(conn, feed([(mpan, B, NOW - timedelta(days=1))]), NOW)
    at = NOW + timedelta(days=1)
    with store.begin() as conn:
        apply_feed(conn, feed([(mpan, B, at)]), NOW)
    with store.begin() as conn, pytest.raises(RegistrationFeedError, match="already has supplier"):
        apply_feed(conn, feed([(mpan, A, at)]), NOW)
    with store.begin() as conn:
        assert inventory_repo.registration_at(conn, MPxN.parse(mpan), at).supplier_id == B  # type: ignore[union-attr]


class Killed(Exception):
    """The worker died here."""


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL on each backend: an SQLite file, a new PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_databases").create())
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


class Estate:
    """The DCC wired to an emulated estate of `premises` dual-fuel premises (meters trusting
    supplier A), each meter point registered to A, then to B from `AT`."""

    def __init__(self, url: str, premises: int) -> None:
        self.clock = SimulatedClock(NOW)
        self.store = open_store(url)
        self.service, self.side = serve_device_side(self.store, KeyStore.from_reference(),
                                                    premises=premises, clock=self.clock)
        self.points = [m.mpxn for p in self.side.estate.premises if p.index >= 0
                       for m in (p.esme, p.gsme) if m is not None and m.mpxn is not None]
        with self.store.begin() as conn:
            apply_feed(conn, feed([(str(m), B, AT) for m in self.points]), NOW)
        self.clock.set(AT)
        self.credentials = tcos(self.side)

    def meters(self) -> list[Any]:
        return [m for p in self.side.estate.premises if p.index >= 0 for m in (p.esme, p.gsme)
                if m is not None]


AT = NOW + timedelta(hours=1)


@pytest.mark.parametrize("where", ["credentials", "device replaced", "device recorded"])
def test_a_worker_killed_mid_switch_resumes_to_completion(backend_url: str, where: str) -> None:
    estate = Estate(backend_url, 1)
    credentials = estate.credentials
    deaths = iter([True])

    def kill(label: str, _switch: object) -> None:
        if label == where and next(deaths, False):
            raise Killed(label)

    with pytest.raises(Killed):
        run_switches(estate.store, credentials, AT, hook=kill)
    with estate.store.begin() as conn:
        assert any(s.step is not Step.COMPLETED for s in switches.all_switches(conn))
    run_switches(estate.store, credentials, AT)  # the restarted worker
    with estate.store.begin() as conn:
        assert {s.step for s in switches.all_switches(conn)} == {Step.COMPLETED}
    assert check_switched(estate.store, credentials, AT) == []
    assert credentials.commands_sent == 2  # each meter got its CS02b once
    estate.store.close()


def test_a_meter_that_does_not_answer_leaves_its_switch_under_way(backend_url: str) -> None:
    estate = Estate(backend_url, 1)
    [premises] = [p for p in estate.side.estate.premises if p.index >= 0]
    estate.side.estate.power_fail(premises.chf.id)  # the hub is dark: no answer
    assert run_switches(estate.store, estate.credentials, AT) == 2
    with estate.store.begin() as conn:
        steps = {str(s.mpxn): s.step for s in switches.all_switches(conn)}
    assert steps[str(premises.esme.mpxn)] is Step.CREDENTIALS  # not half-switched: under way
    estate.side.estate.power_restore(premises.chf.id)
    run_switches(estate.store, estate.credentials, AT)
    assert check_switched(estate.store, estate.credentials, AT) == []
    estate.store.close()


@pytest.mark.slow
def test_a_thousand_simultaneous_switches_leave_no_meter_half_switched(backend_url: str) -> None:
    """1,000 meter points (500 dual-fuel premises), each switched with a real CS02b from the
    Transitional CoS party over the SM WAN; the worker is killed half-way and restarted as two
    concurrent workers sharing the switches; none is left half-switched."""
    estate = Estate(backend_url, PREMISES)
    assert len(estate.points) == 2 * PREMISES
    credentials = estate.credentials
    dies = iter(range(1, 10_000))

    def kill(label: str, _switch: object) -> None:
        if label == "device replaced" and next(dies) == PREMISES:
            raise Killed(label)

    with pytest.raises(Killed):
        run_switches(estate.store, credentials, AT, hook=kill)
    with ThreadPoolExecutor(2) as pool:  # restarted as two workers sharing the switches
        resumed = list(pool.map(lambda w: run_switches(estate.store, credentials, AT, worker=w,
                                                       workers=2), range(2)))
    assert all(n > 0 for n in resumed)
    with estate.store.begin() as conn:
        done = [s for s in switches.all_switches(conn) if s.mpxn in estate.points]
    assert len(done) == 2 * PREMISES and {s.step for s in done} == {Step.COMPLETED}
    assert check_switched(estate.store, credentials, AT) == []
    assert credentials.commands_sent == 2 * PREMISES  # each meter's CS02b once
    assert all(credentials.supplier_anchor(m.eui) == B for m in estate.meters())
    estate.store.close()
