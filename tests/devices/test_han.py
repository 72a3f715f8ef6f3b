"""HAN: only whitelisted, joined devices are reachable; the GSME is reached through the GPF."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opendcc.clock import SimulatedClock
from opendcc.devices.chf import CHF, DEVICE_LOG_CAPACITY
from opendcc.devices.device import DeviceType
from opendcc.devices.errors import InvalidArgument, NotJoined, NotOnWhitelist
from opendcc.devices.estate import Estate
from opendcc.devices.gsme import CONTACT_INTERVAL
from opendcc.devices.results import Outcome
from opendcc.ids import EUI64

CODE = bytes(range(18))


@pytest.fixture
def estate(clock: SimulatedClock) -> Estate:
    return Estate.demo(clock=clock, premises=2, seed=5)


def test_command_to_device_not_on_whitelist_is_refused(estate: Estate) -> None:
    p = estate.premises[1]
    estate.execute(p.chf.id, lambda chf, t: chf.remove_device_from_device_log(p.esme.id, t))
    tariff = p.esme.tariff
    with pytest.raises(NotOnWhitelist):
        estate.execute(p.esme.id, lambda d, t: d.update_tariff_prices(t, tou_prices=(1,)))
    assert p.esme.tariff is tariff
    assert p.chf.historic_log[-1].device == p.esme.id


def test_whitelisted_device_must_join_with_its_install_code(clock: SimulatedClock) -> None:
    chf = CHF(EUI64.parse("0A00000000000010"))
    now = clock.now()
    chf.add_device_to_device_log("0A-00-00-00-00-00-00-11", DeviceType.ESME, CODE, now)
    with pytest.raises(NotJoined):
        chf.check_reachable("0A-00-00-00-00-00-00-11")
    with pytest.raises(NotJoined):
        chf.join("0A-00-00-00-00-00-00-11", bytes(18), now)
    chf.join("0A-00-00-00-00-00-00-11", CODE, now + timedelta(minutes=5))
    assert chf.check_reachable("0A-00-00-00-00-00-00-11").joined


def test_join_after_the_window_is_refused(clock: SimulatedClock) -> None:
    chf = CHF(EUI64.parse("0A00000000000010"))
    chf.add_device_to_device_log("0A-00-00-00-00-00-00-11", DeviceType.ESME, CODE, clock.now(),
                                 join_timeout=timedelta(minutes=10))
    with pytest.raises(NotJoined):
        chf.join("0A-00-00-00-00-00-00-11", CODE, clock.now() + timedelta(minutes=11))


def test_device_log_holds_sixteen(clock: SimulatedClock) -> None:
    chf = CHF(EUI64.parse("0A00000000000010"))
    for i in range(DEVICE_LOG_CAPACITY):
        chf.add_device_to_device_log(f"0A-00-00-00-00-00-01-{i:02X}", DeviceType.IHD, CODE, clock.now())
    with pytest.raises(InvalidArgument):
        chf.add_device_to_device_log("0A-00-00-00-00-00-02-00", DeviceType.IHD, CODE, clock.now())
    again = chf.add_device_to_device_log("0A-00-00-00-00-00-01-00", DeviceType.IHD, CODE, clock.now())
    assert again.outcome is Outcome.NO_CHANGE


def test_gsme_reads_come_from_the_gpf_mirror(estate: Estate, clock: SimulatedClock) -> None:
    p = estate.premises[1]
    assert p.gpf is not None and p.gsme is not None
    now = clock.now() + timedelta(hours=5, minutes=7)
    mirror = p.gpf.read_gsme_import_registers(now).value
    assert mirror.at == p.gsme.last_contact(now) <= now
    assert mirror.total_wh == p.gsme.register(mirror.at)


def test_gsme_command_waits_for_the_next_contact(estate: Estate, clock: SimulatedClock) -> None:
    p = estate.premises[1]
    assert p.gsme is not None
    delivery = estate.send(p.gsme.id, lambda d, t: d.disable_supply(t))
    clock.advance(CONTACT_INTERVAL.total_seconds() + 60)
    assert delivery.ok
    assert delivery.executed_at == p.gsme.next_contact(delivery.sent_at + timedelta(seconds=1))
    assert p.gsme.supply_state.value == "disabled"
