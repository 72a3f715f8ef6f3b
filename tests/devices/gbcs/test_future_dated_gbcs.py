"""Future-dated GBCS commands (GBCS §7.2.10): held until their date, cancellable, and refused
when the date has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from devices.gbcs.sites import Site, edited, payload_view, rtds
from opendcc.client.parse import parse
from opendcc.devices.events import FUTURE_DATED_EXECUTION
from opendcc.devices.gbcs.templates import shape
from opendcc.duis.schema import validate_mmc
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.payloads import payload_json

ESME = "00-DB-12-34-56-78-90-A0"
FUTURE = "ECS01b_1.2.1_FUTURE_DATED_TOU_BLOCK_SUCCESS_COMMAND_GBCS.HEX"
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
    [octets] = site.endpoint.alerts
    alert = codec.decode(octets, site.keys.supplier_side)
    assert alert.kind is MessageKind.ALERT and alert.verification is Verification.VERIFIED
    assert alert.apdu.recipient == command.apdu.originator
    assert shape(payload_json(alert.payload)) == alert_shape_of(
        "ECS01b_1.2.1_8F66_FUTURE_DATED_TOU_BLOCK_SUCCESS_ALERT_PRICE_MATRIX_GBCS.HEX")
    parsed = parse(octets, keys=site.keys.supplier_side, user=command.apdu.originator)
    assert parsed.alert_code == 0x8F66
    validate_mmc(parsed.to_mmc_xml())


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
