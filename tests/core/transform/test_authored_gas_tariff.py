"""GCS01a Update Import Tariff on a GSME (`core.transform.authored.gas_tariff`): one GBZ
payload of Calendar and Price cluster commands whose day and week profile commands, season,
special day, price and threshold entries follow the request's items; built on the learned
GCS01b's Price components, or no form without them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opendcc.config import reference_dir
from opendcc.core.transform import transform
from opendcc.core.transform.authored import gas_tariff
from opendcc.core.transform.learn import load_command_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gbcs import codec
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.gbcs.payloads import decode_payload, payload_json
from opendcc.smki.keystore import KeyStore

NOW = datetime(2014, 6, 1, tzinfo=UTC)
LEARNED = load_command_data(reference_dir().resolve())[0]["forms"]
TEMPLATES = reference_dir() / "duis" / "templates"
KEYS = KeyStore.from_reference()


def _components(name: str) -> tuple[int, list[dict[str, Any]]]:
    request = read_request(parse_xml((TEMPLATES / name).read_bytes()))
    result = transform(request, now=NOW, counter=10**13, keys=KEYS, device_type="GSME")
    apdu = codec.decode(result.gbcs, KEYS).apdu
    view: Any = payload_json(decode_payload("zcl", apdu.content))
    return apdu.message_code, view["components"]


def _commands(components: list[dict[str, Any]]) -> list[str]:
    return [c["zcl_frame"]["payload"]["command"] for c in components]


def _fields(component: dict[str, Any]) -> dict[str, Any]:
    return dict(component["zcl_frame"]["payload"]["fields"])


def test_tou_tariff_sends_one_command_per_day_and_week_profile() -> None:
    code, components = _components("GCS01a_1.1.1_IMMEDIATE_TOU_SUCCESS_REQUEST_DUIS.XML")
    assert USE_CASE_BY_CODE[code] == "GCS01a"
    commands = _commands(components)
    assert commands.count("calendar/publish-day-profile") == 4
    assert commands.count("calendar/publish-week-profile") == 2
    assert commands[-2:] == ["price/publish-tariff-information", "price/publish-price-matrix"]
    calendar = _fields(components[0])
    assert (calendar["number_of_day_profiles"], calendar["number_of_week_profiles"],
            calendar["number_of_seasons"]) == (4, 2, 2)
    days = [_fields(c) for c in components if c["zcl_frame"]["payload"]["command"]
            == "calendar/publish-day-profile"]
    assert [d["day_schedule_entries"][0]["price_tier"] for d in days] == [1, 2, 3, 4]
    week2 = [_fields(c) for c in components
             if c["zcl_frame"]["payload"]["command"] == "calendar/publish-week-profile"][1]
    assert (week2["week_id"], week2["day_id_ref_monday"], week2["day_id_ref_sunday"]) == (2, 3, 4)
    special = _fields(components[-3])
    assert special["total_number_of_special_days"] == len(special["special_day_entries"]) == 10
    matrix = _fields(components[-1])
    assert [e["price"] for e in matrix["price_matrix_sub_payload"]] == [9600, 10200, 10750, 11000]
    assert _fields(components[-2])["standing_charge"] == 22465
    assert [c["extended_header_control_field"] & 1 for c in components] == \
        [0] * (len(components) - 1) + [1]


def test_block_tariff_is_future_dated_and_sends_its_thresholds() -> None:
    _, components = _components("GCS01a_1.1.1_FUTURE_DATED_BLOCK_SUCCESS_REQUEST_DUIS.XML")
    commands = _commands(components)
    assert commands.count("calendar/publish-day-profile") == 1
    assert commands[-1] == "price/publish-block-thresholds"
    thresholds = _fields(components[-1])
    assert [t["block_threshold"] for t in thresholds["block_thresholds"]] == \
        [1000000, 2000000, 3000000]
    info = _fields(components[-3])
    assert info["standing_charge"] == 54794
    assert info["start_time"] == _fields(components[0])["start_time"] != 0
    assert _fields(components[-4])["special_day_entries"] == []


def test_without_the_learned_sibling_no_form_is_authored() -> None:
    assert gas_tariff.forms([]) == []
