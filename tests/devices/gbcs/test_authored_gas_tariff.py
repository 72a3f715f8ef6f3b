"""The GSME executes GCS01a Update Import Tariff as the Transform's authored form sends it
(`core.transform.authored.gas_tariff`, `devices.gbcs.authored_gas_tariff`): the tariff is
stored, a later tariff read reports it, and the Response (a Default Response per command) comes
back verified and parses into valid MMC; a tariff the meter cannot hold changes nothing."""

from __future__ import annotations

from datetime import UTC, timedelta

from devices.gbcs.sites import Site
from devices.gbcs.test_authored_gas_hub import GSME_ID, _answer, _device, _request
from opendcc.devices.gsme import GSME

TOU, BLOCK = "GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS", "GCS01a_1.1.1_FUTURE_DATED_BLOCK_SUCCESS"


def test_gcs01a_tou_tariff_is_stored_and_read_back(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    executed, view, _ = _answer(site, _request(TOU))
    assert executed
    tariff = gsme.read_tariff(site.clock.now()).value
    assert tariff.tou_prices == (9600, 10200, 10750, 11000)
    assert tariff.standing_charge == 22465 and not tariff.block_prices
    # one schedule entry per day profile: the day's TOU rate from midnight
    assert len(tariff.switching) == 1 and tariff.switching[0][0] == 0
    assert 0 <= tariff.switching[0][1] < 4
    commands = view["components"]
    assert len(commands) == 4 + 2 + 5  # day and week profiles, then five fixed commands
    assert all(c["zcl_frame"]["payload"]["status_code"] == 0 for c in commands)


def test_gcs01a_block_tariff_is_stored_with_its_thresholds(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    executed, _, _ = _answer(site, _request(BLOCK, drop="ExecutionDateTime"))
    assert executed
    tariff = gsme.read_tariff(site.clock.now()).value
    assert tariff.block_prices == (9600, 10200, 10750, 11000)
    assert tariff.block_thresholds == (1000000, 2000000, 3000000)  # kWh/1000 as Wh
    assert tariff.standing_charge == 54794


def test_gcs01a_tariff_the_meter_cannot_hold_is_refused_and_changes_nothing(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    before = gsme.read_tariff(site.clock.now()).value
    request = _request(BLOCK, {"BlockThreshold": "9000000"}, drop="ExecutionDateTime")
    executed, view, _ = _answer(site, request)  # thresholds no longer rise
    assert not executed
    assert gsme.read_tariff(site.clock.now()).value == before
    assert view["components"][0]["zcl_frame"]["payload"]["status_code"] != 0


def test_gcs01a_future_dated_tariff_is_held_until_its_date(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    before = gsme.read_tariff(site.clock.now()).value
    at = (site.clock.now() + timedelta(hours=1)).astimezone(UTC)
    executed, _, _ = _answer(site, _request(BLOCK, {
        "ExecutionDateTime": at.strftime("%Y-%m-%dT%H:%M:%S.00Z")}))
    assert executed and [p.use_case for p in gsme.pending()] == ["GCS01a"]
    assert gsme.read_tariff(site.clock.now()).value == before
    site.clock.advance(2 * 3600)
    assert not gsme.pending()
    assert gsme.read_tariff(site.clock.now()).value.block_prices == (9600, 10200, 10750, 11000)
