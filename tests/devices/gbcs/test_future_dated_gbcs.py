"""Future-dated GBCS commands (GBCS §7.2.10): held until their date, cancellable, and refused
when the date has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.gbcs.sites import Site, edited, payload_view, rtds
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.devices.events import FUTURE_DATED_EXECUTION
from opendcc.devices.gbcs.dating import FUTURE_DATABLE
from opendcc.devices.gbcs.templates import shape
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.payloads import payload_json

ESME = "00-DB-12-34-56-78-90-A0"
FUTURE = "ECS01b_1.2.1_FUTURE_DATED_TOU_BLOCK_SUCCESS_COMMAND_GBCS.HEX"
RTDS = reference_dir() / "gbcs" / "rtds"
ZIGBEE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CANCEL = "ECS01b_1.2.1_CANCELLATION_TOU_BLOCK_SUCCESS_COMMAND_GBCS.HEX"


def dated(at: datetime, first_price: int) -> Any:
    """ECS01b with activation times (Charge attribute 7) at `at` and TOU rate 1 at a price."""
    def change(view: Any) -> None:
        for spec, data in zip(view["access_request_list_of_specification"],
                              view["access_request_list_of_data"], strict=True):
            desc = spec["cosem_attribute_descriptor"]
            if desc["attribute_id"] == 7:
                data["value"] = bytes(DateTime.from_datetime(at)).hex()
            elif desc["instance_id"] == "0-0:19.20.0.255":
                data["elements"][2]["elements"][0]["elements"][1]["value"] = first_price
    return edited(rtds(FUTURE), change)


def test_a_future_dated_price_change_is_held_then_applied(site: Site) -> None:
    esme: Any = site.estate.device(ESME)
    before = esme.tariff
    [response] = site.endpoint.handle(site.command(dated(site.clock.now() + timedelta(hours=1), 27000)))
    assert parse(response, keys=site.keys.supplier_side).success
    assert esme.tariff == before and [p.use_case for p in esme.pending()] == ["ECS01b"]
    site.clock.advance(2 * 3600)
    assert esme.tariff.tou_prices[0] == 2700 and not esme.pending()
    assert FUTURE_DATED_EXECUTION in [e.code for e in esme.event_log.entries()]


def test_a_cancellation_cancels_the_held_command(site: Site) -> None:
    esme: Any = site.estate.device(ESME)
    before = esme.tariff
    site.endpoint.handle(site.command(dated(site.clock.now() + timedelta(hours=1), 27000)))
    [response] = site.endpoint.handle(site.command(rtds(CANCEL)))
    assert parse(response, keys=site.keys.supplier_side).success
    assert not esme.pending()
    site.clock.advance(2 * 3600)
    assert esme.tariff == before


def test_an_expired_future_date_is_refused_and_changes_nothing(site: Site) -> None:
    esme: Any = site.estate.device(ESME)
    before = esme.tariff
    answer = site.endpoint.answer(site.command(dated(site.clock.now() - timedelta(hours=1), 27000)))
    assert not answer.executed
    view = payload_view(answer.messages[0], site.keys.supplier_side)
    assert any(r["result"] != 0 for r in view["access_response_specification"])
    assert esme.tariff == before and not esme.pending()


def alert_shape_of(name: str) -> Any:
    return shape(payload_json(rtds(name).payload))


def test_running_a_held_dlms_command_raises_the_signed_8f66_alert(site: Site) -> None:
    command = dated(site.clock.now() + timedelta(hours=1), 27000)
    site.endpoint.handle(site.command(command))
    assert site.endpoint.alerts == []
    site.clock.advance(2 * 3600)
    # One alert per activated attribute: the standing charge, then the price matrix.
    standing, prices = site.endpoint.alerts
    for octets, part in ((standing, "STANDING_CHARGE"), (prices, "PRICE_MATRIX")):
        alert = codec.decode(octets, site.keys.supplier_side)
        assert alert.kind is MessageKind.ALERT and alert.verification is Verification.VERIFIED
        assert alert.apdu.recipient == command.apdu.originator
        assert shape(payload_json(alert.payload)) == alert_shape_of(
            f"ECS01b_1.2.1_8F66_FUTURE_DATED_TOU_BLOCK_SUCCESS_ALERT_{part}_GBCS.HEX")
        parsed = parse(octets, keys=site.keys.supplier_side, user=command.apdu.originator)
        assert parsed.alert_code == 0x8F66
        validate_mmc(parsed.to_mmc_xml())
    counters = [codec.decode(a).apdu.originator_counter for a in (standing, prices)]
    assert counters[0] < counters[1], "the device's alert counter rises"


def test_running_a_held_gbz_command_raises_the_signed_8f66_alert(site: Site) -> None:
    gsme: Any = site.estate.device("00-DB-12-34-56-78-90-A1")
    at = site.clock.now() + timedelta(hours=1)

    def change(view: Any) -> None:
        fields = view["components"][0]["zcl_frame"]["payload"]["fields"]
        fields["implementation_date_time"] = int((at - ZIGBEE_EPOCH).total_seconds())

    command = edited(rtds("GCS02_1.6_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX"), change)
    site.endpoint.handle(site.command(command))
    assert [p.use_case for p in gsme.pending()] == ["GCS02"]
    site.clock.advance(2 * 3600)
    [octets] = site.endpoint.alerts
    alert = codec.decode(octets, site.keys.supplier_side)
    assert alert.verification is Verification.VERIFIED
    assert shape(payload_json(alert.payload)) == alert_shape_of(
        "GCS02_1.6_8F66_FUTURE_DATED_SUCCESS_ALERT_CHANGE_PAYMENT_MODE_GBCS.HEX")
    validate_mmc(parse(octets, keys=site.keys.supplier_side).to_mmc_xml())


def _reschedule(view: Any, at: datetime) -> None:
    """Move every execution time of a future-dated command to `at`."""
    cosem = bytes(DateTime.from_datetime(at)).hex()
    for data in view.get("access_request_list_of_data", []):
        if data.get("@type") == "octet-string" and len(data.get("value", "")) == 24 \
                and any(bytes.fromhex(data["value"])[:9]):
            data["value"] = cosem
    for component in view.get("components", []):
        fields = component["zcl_frame"]["payload"].get("fields", {})
        for name in ("implementation_date_time", "start_time"):
            if fields.get(name) not in (None, 0, 0xFFFFFFFF):
                fields[name] = int((at - ZIGBEE_EPOCH).total_seconds())


def _alert_key(view: Any) -> Any:
    """What an 0x8F66 alert names: the DLMS attribute, or the GBZ cluster and command (RTDS
    gives calendar commands frame control 9 in the command but 1 in its alert)."""
    if view["@type"] == "data-notification":
        return view["#"]["attribute"]
    content = view["content"]
    return (content["cluster_id"], content["command_identifier"])


FUTURE_COMMANDS = [p for p in RTDS.glob("*/*_FUTURE_DATED_*SUCCESS_COMMAND_GBCS.HEX")
                   if codec.decode(bytes.fromhex(p.read_text().strip())).use_case.code in FUTURE_DATABLE]


@pytest.mark.parametrize("path", sorted(FUTURE_COMMANDS), ids=lambda p: p.name[:-len("_COMMAND_GBCS.HEX")])
def test_each_rtds_future_dated_command_raises_the_rtds_8f66_alerts(site: Site, path: Path) -> None:
    command = rtds(path.name)
    at = site.clock.now() + timedelta(hours=1)
    site.endpoint.handle(site.command(edited(command, lambda v: _reschedule(v, at))))
    assert site.endpoint.alerts == []
    site.clock.advance(2 * 3600)
    prefix = path.name.replace("_FUTURE_DATED_", "_8F66_FUTURE_DATED_").replace("_COMMAND_GBCS.HEX", "_ALERT_")
    expected = [payload_json(codec.decode(bytes.fromhex(p.read_text().strip())).payload)
                for p in path.parent.glob(prefix + "*")]
    got = []
    for octets in site.endpoint.alerts:
        alert = codec.decode(octets, site.keys.supplier_side)
        assert alert.verification is Verification.VERIFIED
        got.append(payload_json(alert.payload))
        validate_mmc(parse(octets, keys=site.keys.supplier_side).to_mmc_xml())
    assert sorted(map(str, map(_alert_key, got))) == sorted(map(str, map(_alert_key, expected)))
    assert {str(shape(v)) for v in got} <= {str(shape(v)) for v in expected}
