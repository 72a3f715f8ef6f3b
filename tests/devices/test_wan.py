"""Simulated WAN on a SimulatedClock: latency, loss, outages, power failure, deadlines, retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from opendcc.clock import SimulatedClock
from opendcc.devices.estate import Estate
from opendcc.devices.events import Alert, Recipient
from opendcc.devices.wan import (
    ZERO_LATENCY,
    Delivery,
    DeliveryStatus,
    FailureReason,
    LinkProfile,
    Wan,
)

HUB = "0A-00-00-00-00-00-00-00"


def _run(seed: int, profile: LinkProfile, n: int = 50) -> list[tuple[str, float | None, int]]:
    clock = SimulatedClock()
    wan = Wan(clock, seed, profile)
    deliveries = [wan.send(f"0A-00-00-00-00-00-00-{i % 7:02X}", lambda t: t, deadline_s=30,
                           retry_after_s=5) for i in range(n)]
    clock.advance(60)
    return [(d.status.value, d.completed_at and (d.completed_at - d.sent_at).total_seconds(),
             d.attempts) for d in deliveries]


def test_same_seed_gives_the_same_timings() -> None:
    profile = LinkProfile(median_latency_s=2.0, latency_sigma=0.6, loss=0.2)
    assert _run(1, profile) == _run(1, profile)
    assert _run(1, profile) != _run(2, profile)


def test_latency_follows_the_profile() -> None:
    runs = _run(3, LinkProfile(median_latency_s=2.0, latency_sigma=0.3, loss=0.0), n=200)
    rtts = sorted(r[1] for r in runs if r[1] is not None)
    median = rtts[len(rtts) // 2]
    assert 3.0 < median < 5.5  # two legs of ~2 s each
    assert all(r[0] == "delivered" for r in runs)


def test_lossy_link_delivers_by_retrying() -> None:
    runs = _run(4, LinkProfile(median_latency_s=0.5, latency_sigma=0.1, loss=0.3), n=200)
    delivered = [r for r in runs if r[0] == "delivered"]
    assert any(r[2] > 1 for r in delivered)
    assert len(delivered) > 150


def test_command_executes_once_even_when_the_response_is_lost() -> None:
    clock = SimulatedClock()
    wan = Wan(clock, 9, LinkProfile(0.5, 0.1, loss=0.3))
    calls: list[datetime] = []
    deliveries = [wan.send(HUB, calls.append, deadline_s=120, retry_after_s=5, max_attempts=10)
                  for _ in range(100)]
    clock.advance(200)
    assert len(calls) == sum(1 for d in deliveries if d.executed_at is not None)
    assert all(d.status is DeliveryStatus.DELIVERED for d in deliveries)


def test_outage_past_the_deadline_times_out() -> None:
    clock = SimulatedClock()
    wan = Wan(clock, 0, ZERO_LATENCY)
    wan.schedule_outage(HUB, clock.now(), clock.now() + timedelta(minutes=10))
    done: list[Delivery[object]] = []
    executed: list[datetime] = []
    d = wan.send(HUB, executed.append, deadline_s=60, retry_after_s=10, on_done=done.append)
    clock.advance(120)
    assert d.status is DeliveryStatus.TIMED_OUT
    assert d.last_failure is FailureReason.WAN_OUTAGE
    assert d.duis_response_code == "E20"
    assert done == [d] and executed == []


def test_outage_shorter_than_the_deadline_is_ridden_out_by_retries() -> None:
    clock = SimulatedClock()
    wan = Wan(clock, 0, ZERO_LATENCY)
    wan.schedule_outage(HUB, clock.now(), clock.now() + timedelta(seconds=15))
    d = wan.send(HUB, lambda t: "ok", deadline_s=60, retry_after_s=10, max_attempts=3)
    clock.advance(60)
    assert d.ok and d.response == "ok" and d.attempts == 3


def test_power_failure_raises_outage_and_restoration_alerts(clock: SimulatedClock) -> None:
    alerts: list[Alert] = []
    estate = Estate.demo(clock=clock, premises=1, seed=2, alert_sink=alerts.append)
    p = estate.premises[-1]
    estate.power_fail(p.hub)
    clock.advance(10)
    d = estate.send(p.esme.id, lambda dev, t: dev.read_supply_status(t), deadline_s=60)
    clock.advance(300)
    assert d.status is DeliveryStatus.TIMED_OUT and d.last_failure is FailureReason.HUB_UNPOWERED
    estate.power_restore(p.hub)
    clock.advance(10)
    assert [a.code_text for a in alerts] == ["AD1", "8F36"]
    assert all(a.recipient is Recipient.NETWORK_OPERATOR for a in alerts)
    assert alerts[1].device == p.esme.id
    # The meter measured nothing while the premises had no power.
    lost = alerts[0].at
    assert p.esme.register(lost + timedelta(minutes=5)) == p.esme.register(lost)


def test_short_power_cut_reports_0x8f35(clock: SimulatedClock) -> None:
    alerts: list[Alert] = []
    estate = Estate.demo(clock=clock, premises=1, seed=2, alert_sink=alerts.append)
    hub = estate.premises[-1].hub
    estate.power_fail(hub)
    clock.advance(60)
    estate.power_restore(hub)
    clock.advance(10)
    assert [a.code_text for a in alerts] == ["AD1", "8F35"]


def test_device_alerts_ride_back_on_the_wan(clock: SimulatedClock) -> None:
    alerts: list[Alert] = []
    estate = Estate.demo(clock=clock, premises=1, seed=2, alert_sink=alerts.append)
    p = estate.premises[-1]
    from opendcc.devices.prepayment import PaymentMode, Utrn

    p.esme.set_payment_mode(PaymentMode.PREPAYMENT, clock.now())
    p.esme.top_up(Utrn(1_00, 1), clock.now())
    clock.advance(3 * 3600)
    d = estate.send(p.esme.id, lambda dev, t: dev.activate_emergency_credit(t))
    clock.advance(30)
    assert d.ok
    assert "81AB" in [a.code_text for a in alerts]


def test_chf_wan_state_follows_an_outage(clock: SimulatedClock) -> None:
    estate = Estate.demo(1, seed=2, clock=clock)
    p = estate.premises[-1]
    start = clock.now() + timedelta(minutes=5)
    estate.wan_outage(p.hub, start, start + timedelta(minutes=10))
    clock.advance(6 * 60)
    assert not p.chf.wan_connected
    d = estate.send(p.esme.id, lambda dev, t: dev.read_supply_status(t), deadline_s=30)
    clock.advance(60)
    assert d.duis_response_code == "E20"
    clock.advance(10 * 60)
    assert p.chf.wan_connected
