"""The router, the alert router and the DCC schedules on a simulated clock, without a gateway."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from opendcc.clock import SimulatedClock
from opendcc.core.alerts import AlertRouter, Party, gbcs_alert
from opendcc.core.routing import CANCELLATION, RoutedCommand, WanRouter, execution_time
from opendcc.core.scheduler import DccSchedules, TimerThread
from opendcc.devices.estate import Estate
from opendcc.devices.events import EMERGENCY_CREDIT_ACTIVATED, Alert, Recipient
from opendcc.devices.gbcs import DeviceGbcsEndpoint
from opendcc.devices.gbcs.endpoint import Answer
from opendcc.devices.wan import LinkProfile
from opendcc.duis.request import SR
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
ESME = "00-DB-12-34-56-78-90-A0"
CHF = "00-DB-12-34-56-78-90-A2"


def _code(message: etree._Element) -> str | None:
    return message.findtext(f"{{{SR}}}Header/{{{SR}}}ResponseCode")


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


def _router(clock: SimulatedClock, out: list[tuple[EUI64, etree._Element]]) -> WanRouter:
    estate = Estate.demo(0, seed=1, clock=clock)
    endpoint = DeviceGbcsEndpoint(estate, KeyStore(), clock)
    return WanRouter(estate, endpoint, clock, lambda user, msg: out.append((user, msg)))


def _routed(counter: int = 1, device: str = ESME) -> RoutedCommand:
    return RoutedCommand(RequestID(SUPPLIER, EUI64.parse(device), counter), "4.1", "4.1.1")


def test_a_command_lost_on_every_attempt_is_e21_at_the_deadline(clock: SimulatedClock) -> None:
    out: list[tuple[EUI64, etree._Element]] = []
    router = _router(clock, out)
    router.estate.wan.set_profile(CHF, LinkProfile(0.1, 0.0, loss=1.0))
    router.send(b"\xdd", _routed())
    clock.advance(30)
    assert out == []  # still retrying
    clock.advance(60)
    [(user, message)] = out
    assert user == SUPPLIER and _code(message) == "E21"


def test_a_hub_without_power_is_e20_at_the_deadline(clock: SimulatedClock) -> None:
    out: list[tuple[EUI64, etree._Element]] = []
    router = _router(clock, out)
    router.estate.power_fail(CHF)
    router.send(b"\xdd", _routed())
    clock.advance(120)
    assert [_code(m) for _, m in out] == ["E20"]


def test_a_device_outside_the_emulated_estate_is_e20(clock: SimulatedClock) -> None:
    out: list[tuple[EUI64, etree._Element]] = []
    router = _router(clock, out)
    router.send(b"\xdd", _routed(device="00-11-22-33-44-55-66-77"))
    clock.advance(1)
    assert [_code(m) for _, m in out] == ["E20"]


def test_a_command_the_device_cannot_read_is_discarded_and_answered_e21(
        clock: SimulatedClock) -> None:
    out: list[tuple[EUI64, etree._Element]] = []
    router = _router(clock, out)
    router.send(b"not gbcs", _routed())
    clock.advance(120)
    assert [_code(m) for _, m in out] == ["E21"]
    assert router.counts.last_refusal is not None
    assert router.counts.last_refusal[1].startswith("MalformedCommand")


def test_future_dated_execution_time_and_cancellation() -> None:
    later = T0 + timedelta(days=1)
    assert execution_time(later) == later
    assert execution_time(None) is None
    assert execution_time(CANCELLATION) is None


def test_supplier_alerts_go_to_the_supplier_and_outages_to_the_network_operator(
        clock: SimulatedClock) -> None:
    out: list[tuple[EUI64, etree._Element]] = []
    parties = [Party(Recipient.SUPPLIER, SUPPLIER, "1312345678111"),
               Party(Recipient.NETWORK_OPERATOR, NETWORK_OPERATOR, "1312345678111")]
    counter = iter(range(1, 100))
    router = AlertRouter(lambda user, msg: out.append((user, msg)), lambda _d: parties,
                         KeyStore(), lambda: next(counter), lambda _hub: ESME)
    router.on_alert(Alert(EMERGENCY_CREDIT_ACTIVATED, ESME, T0))
    router.on_alert(Alert("AD1", CHF, T0))
    kinds = [(user, etree.QName(msg.find(f"{{{SR}}}Body")[0]).localname) for user, msg in out]
    assert kinds == [(SUPPLIER, "DeviceAlertMessage"), (NETWORK_OPERATOR, "DCCAlertMessage")]
    assert out[1][1].findtext(f".//{{{SR}}}MPxN") == "1312345678111"


def test_an_alert_nobody_is_registered_for_is_kept(clock: SimulatedClock) -> None:
    router = AlertRouter(lambda _u, _m: None, lambda _d: [], KeyStore(), lambda: 1)
    router.on_alert(Alert(EMERGENCY_CREDIT_ACTIVATED, ESME, T0))
    assert len(router.undelivered) == 1


def test_dcc_schedules_fire_on_time_until_deleted(clock: SimulatedClock) -> None:
    schedules = DccSchedules(clock)
    fired: list[datetime] = []
    schedule = schedules.create("user", T0 + timedelta(hours=1), timedelta(days=1), fired.append)
    clock.advance(3 * 86400)
    assert fired == [T0 + timedelta(hours=1, days=d) for d in range(3)]
    assert schedules.of("user") == [schedule]
    assert schedules.delete(schedule.schedule_id)
    clock.advance(2 * 86400)
    assert len(fired) == 3
    with pytest.raises(ValueError, match="positive period"):
        schedules.create("user", T0, timedelta(0), fired.append)


def test_a_dcc_schedule_stops_at_its_end(clock: SimulatedClock) -> None:
    schedules = DccSchedules(clock)
    fired: list[datetime] = []
    schedules.create("user", T0 + timedelta(hours=1), timedelta(days=1), fired.append,
                     until=T0 + timedelta(days=2))
    clock.advance(5 * 86400)
    assert len(fired) == 2
    assert schedules.of("user") == []


def test_the_timer_thread_runs_actions_in_time_order_on_one_thread() -> None:
    timer = TimerThread()
    seen: list[tuple[int, Any]] = []
    done = threading.Event()
    try:
        timer.call_later(0.05, lambda: (seen.append((2, threading.current_thread())), done.set()))
        timer.call_later(0.0, lambda: seen.append((1, threading.current_thread())))
        assert done.wait(5)
    finally:
        timer.stop()
    assert [n for n, _ in seen] == [1, 2]
    assert seen[0][1] is seen[1][1] is not threading.current_thread()


class _AnsweringWithAnAlert:
    """A device side whose answer is a Response and an alert the command caused."""

    def answer(self, command: bytes) -> Answer:
        alert = gbcs_alert(Alert(EMERGENCY_CREDIT_ACTIVATED, ESME, T0), EUI64.parse(ESME),
                           SUPPLIER, 77, KeyStore())
        return Answer(ESME, "ECS17b", True, [b"response octets", alert])


def test_alerts_a_command_causes_reach_their_recipient_as_device_alerts(
        clock: SimulatedClock) -> None:
    out: list[tuple[EUI64, etree._Element]] = []
    router = _router(clock, out)
    router.endpoint = _AnsweringWithAnAlert()  # type: ignore[assignment]
    router.send(b"\xdd", _routed())
    clock.advance(60)
    [(user, response), (to, alert)] = out
    assert user == to == SUPPLIER
    assert response.find(f".//{{{SR}}}GBCSPayload") is not None
    assert alert.findtext(f".//{{{SR}}}DeviceAlertMessage/{{{SR}}}AlertCode") == "81AB"
