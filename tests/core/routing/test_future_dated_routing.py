"""Future-dated device SRVs over the WAN (DUIS 5.4 §3.2 Future Dated Response Patterns).

"Device": the DCC sends the command at once, the device answers at once and holds it, runs it
at its time and raises 8F66 per instruction, which reaches the user as
FutureDatedDeviceAlertMessage under the request's RequestID. "DSP": the DCC holds it.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from devices.gbcs.sites import T0, Keys, Site, make_site, rtds
from devices.gbcs.test_future_dated_gbcs import CANCEL, dated
from opendcc.client.parse import parse
from opendcc.clock import SimulatedClock
from opendcc.core.routing import RoutedCommand, WanRouter
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import issue_device_credentials, layered
from opendcc.duis.request import SR
from opendcc.ids import EUI64, RequestID
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import KeyStore
from opendcc.smki.repository import CertificateRepository

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
ESME = "00-DB-12-34-56-78-90-A0"
CHF = "00-DB-12-34-56-78-90-A2"


@pytest.fixture(scope="module")
def keys(reference: Path) -> Keys:
    """The boxed devices' credentials (device side) and the supplier's view of them."""
    authority = Authority.open(CertificateRepository("sqlite://"), seed="0f" * 32)
    estate = Estate.demo(0, seed=1, clock=SimulatedClock(T0))
    devices = issue_device_credentials(authority, estate.device_ids(), at=T0)
    reference_keys = KeyStore.from_reference(reference)
    return Keys(layered(devices, reference_keys),
                layered(KeyStore.from_repository(authority.repository), reference_keys))


@pytest.fixture
def site(keys: Keys) -> Site:
    """A fresh boxed estate with its GBCS endpoint."""
    return make_site(keys)


def _router(site: Site) -> tuple[WanRouter, list[tuple[EUI64, etree._Element]]]:
    out: list[tuple[EUI64, etree._Element]] = []
    return WanRouter(site.estate, site.endpoint, site.clock,
                     lambda user, msg: out.append((user, msg))), out


def _routed(counter: int, at: datetime | None, *, held_by_device: bool = True) -> RoutedCommand:
    return RoutedCommand(RequestID(SUPPLIER, EUI64.parse(ESME), counter), "1.2", "1.2.1", at,
                         held_by_device=held_by_device)


def _body(message: etree._Element) -> etree._Element:
    return message.find(f"{{{SR}}}Body/{{{SR}}}ResponseMessage")  # type: ignore[return-value]


def _field(message: etree._Element, path: str) -> str | None:
    return _body(message).findtext("/".join(f"{{{SR}}}{p}" for p in path.split("/")))


def test_the_device_answers_at_once_holds_the_command_and_reports_its_execution(
        site: Site) -> None:
    router, out = _router(site)
    esme: Any = site.estate.device(ESME)
    before = esme.tariff
    at = site.clock.now() + timedelta(hours=1)
    router.send(site.command(dated(at, 27000)), _routed(1, at))
    site.clock.advance(60)
    [(user, response)] = out
    assert user == SUPPLIER and _field(response, "GBCSPayload")
    assert parse(base64.b64decode(_field(response, "GBCSPayload") or ""),
                 keys=site.keys.supplier_side).success
    assert esme.tariff == before and [p.use_case for p in esme.pending()] == ["ECS01b"]

    site.clock.advance(3600)
    assert esme.tariff.tou_prices[0] == 2700 and not esme.pending()
    alerts = [m for _, m in out[1:]]
    assert [u for u, _ in out[1:]] == [SUPPLIER, SUPPLIER]  # one per activation (RTDS: 2)
    for n, alert in enumerate(alerts, 1):
        rid = alert.findtext(f"{{{SR}}}Header/{{{SR}}}RequestID")
        assert rid == str(_routed(1, at).request_id)
        assert _field(alert, "FutureDatedDeviceAlertMessage/FutureDatedAlertCode") == "8F66"
        assert _field(alert, "FutureDatedDeviceAlertMessage/InstructionNumber") == str(n)
        assert _field(alert, "FutureDatedDeviceAlertMessage/TotalCommandInstructions") == "2"
        gbcs = _field(alert, "FutureDatedDeviceAlertMessage/GBCSPayload") or ""
        assert parse(base64.b64decode(gbcs), keys=site.keys.supplier_side)
    assert router.counts.future_dated_alerts == 2 and router._held == {}
    # The device model raised no 0x8F66 of its own beside the GBCS alerts.
    assert not esme.outbox


def test_a_cancellation_removes_the_held_command_and_nothing_is_reported(site: Site) -> None:
    router, out = _router(site)
    esme: Any = site.estate.device(ESME)
    before = esme.tariff
    at = site.clock.now() + timedelta(hours=1)
    router.send(site.command(dated(at, 27000)), _routed(1, at))
    site.clock.advance(60)
    assert len(router._held[EUI64.parse(ESME).hex]) == 1
    router.send(site.command(rtds(CANCEL)), _routed(2, None))
    site.clock.advance(60)
    assert not esme.pending() and router._held == {}  # nothing more to expect
    site.clock.advance(2 * 3600)
    assert esme.tariff == before
    assert [_field(m, "GBCSPayload") is not None for _, m in out] == [True, True]


def test_a_dsp_pattern_command_is_held_by_the_dcc_and_answered_when_sent(site: Site) -> None:
    router, out = _router(site)
    esme: Any = site.estate.device(ESME)
    at = site.clock.now() + timedelta(hours=1)
    command = site.command(dated(at + timedelta(minutes=5), 27000))
    router.send(command, _routed(1, at, held_by_device=False))
    site.clock.advance(600)
    assert out == [] and not esme.pending()  # still with the DCC
    site.clock.advance(3600)
    assert _field(out[0][1], "GBCSPayload")


def test_a_command_falling_due_in_a_power_cut_runs_when_power_returns(site: Site) -> None:
    router, out = _router(site)
    esme: Any = site.estate.device(ESME)
    at = site.clock.now() + timedelta(hours=1)
    router.send(site.command(dated(at, 27000)), _routed(1, at))
    site.clock.advance(60)
    site.estate.power_fail(CHF)
    site.clock.advance(2 * 3600)
    assert esme.pending() and len(out) == 1  # kept through the outage, not run without power
    site.estate.power_restore(CHF)
    assert not esme.pending() and esme.tariff.tou_prices[0] == 2700
    assert len(out) == 3
