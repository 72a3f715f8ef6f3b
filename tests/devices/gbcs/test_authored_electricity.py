"""The ESME executes the use cases RTDS has no vector for, as the Transform's authored forms
send them (`core.transform.authored.electricity`, `devices.gbcs.authored_electricity`): the
device state changes, reads report the device's state, and the Response comes back verified
and renders as valid MMC."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.gbcs.sites import Keys, Site, edited, payload_view, rtds
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.core.transform import transform
from opendcc.core.transform.authored.electricity import forms
from opendcc.core.transform.learn import load_command_data
from opendcc.devices.esme import ESME, MaxDemand
from opendcc.devices.prepayment import PaymentMode
from opendcc.devices.supply import SupplyState
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec
from opendcc.ids import MPxN

ESME_ID = "00-DB-12-34-56-78-90-A0"
TRANSFORM_TIME = datetime(2014, 6, 1, tzinfo=UTC)
#: The learned forms, whose sibling use cases some authored forms take objects from.
LEARNED = load_command_data(reference_dir().resolve())[0]["forms"]
AUTHORED = {f["use_case"] for f in forms(LEARNED)}
TEMPLATES = sorted(p for p in (reference_dir() / "duis" / "templates").glob("*.XML")
                   if p.name.split("_")[0] in AUTHORED)


def _template(prefix: str) -> Path:
    return next(p for p in TEMPLATES if p.name.startswith(prefix))


def _command(path: Path, keys: Keys) -> bytes:
    """The Transform's command for a template; a Pre-Command signed by its user and MACed."""
    request = read_request(parse_xml(path.read_bytes()))
    result = transform(request, now=TRANSFORM_TIME, counter=10**13, keys=keys.device_side,
                       device_type="ESME")
    if not result.pre_command:
        return result.gbcs
    msg = codec.decode(result.gbcs)
    signed = codec.sign_apdu(dataclasses.replace(msg.apdu, signature=bytes(64)), keys.device_side)
    return bytes(codec.add_mac_header(signed, keys.device_side))


def _esme(site: Site) -> Any:
    device = site.estate.device(ESME_ID)
    assert isinstance(device, ESME)
    return device


def _answer(site: Site, path: Path) -> tuple[bool, Any]:
    """Execute the template's command (with a fresh Originator Counter, so one site takes
    several); the Response verified, rendered as valid MMC."""
    answer = site.endpoint.answer(site.command(codec.decode(_command(path, site.keys))))
    parsed = parse(answer.messages[0], keys=site.keys.supplier_side)
    validate_mmc(parsed.to_mmc_xml())
    assert parsed.success == answer.executed
    return answer.executed, payload_view(answer.messages[0], site.keys.supplier_side)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_the_esme_executes_the_template_and_answers(path: Path, site: Site) -> None:
    if path.name.startswith("ECS44"):
        _esme(site).disable_supply(site.clock.now())  # only a disabled supply can be armed
    executed, view = _answer(site, path)
    assert executed
    assert view["@type"] == "access-response"
    assert all(r["result"] == 0 for r in view["access_response_specification"])


def test_arm_supply_arms_a_disabled_supply_and_is_refused_on_an_enabled_one(site: Site) -> None:
    esme = _esme(site)
    executed, view = _answer(site, _template("ECS44"))
    assert not executed and esme.supply_state is SupplyState.ENABLED
    assert view["access_response_specification"][0]["result"] != 0
    esme.disable_supply(site.clock.now())
    executed, _ = _answer(site, _template("ECS44"))
    assert executed and esme.supply_state is SupplyState.ARMED


def test_max_demand_reset_zeroes_the_named_registers(site: Site) -> None:
    esme = _esme(site)
    site.clock.advance(6 * 3600)
    esme.read_max_demand(site.clock.now())
    assert esme.max_demand.import_w > 0, "half-hours of import raise the maximum demand"
    esme.max_demand = MaxDemand(import_w=5000, export_w=300, period_import_w=4000)
    _answer(site, _template("ECS57_6.18.2_SOME"))
    assert esme.max_demand == MaxDemand(import_w=5000, export_w=300, period_import_w=0)
    _answer(site, _template("ECS57_6.18.2_ALL"))
    assert esme.max_demand == MaxDemand()


def test_max_demand_period_counts_only_its_half_hours(site: Site) -> None:
    esme = _esme(site)
    _answer(site, _template("ECS37"))
    assert esme.max_demand_period == (time(17), time(22))
    esme.max_demand = MaxDemand()
    site.clock.advance(3 * 3600)  # 01:00 -> 04:00: outside 17:00-22:00
    esme.read_max_demand(site.clock.now())
    assert esme.max_demand.import_w > 0 and esme.max_demand.period_import_w == 0
    site.clock.advance(16 * 3600)  # to 20:00
    esme.read_max_demand(site.clock.now())
    assert esme.max_demand.period_import_w > 0


def test_configuration_commands_change_the_esme(site: Site) -> None:
    esme = _esme(site)
    _answer(site, _template("ECS39b"))
    assert esme.export_mpan == MPxN.parse("1312345678333")
    _answer(site, _template("ECS48"))
    assert esme.daily_block_counter_reset is True
    _answer(site, _template("ECS29b"))
    settings = dict(esme.voltage_configuration)
    assert settings["RMSExtremeOverVoltageThreshold"] == 287
    assert settings["AverageRMSOverVoltageThreshold"] == 264
    assert settings["AverageRMSOverVoltageThreshold@2"] == 126


def test_reads_report_the_esme_state(site: Site) -> None:
    esme = _esme(site)
    _, view = _answer(site, _template("ECS17c"))
    power, scaler_unit = view["access_response_list_of_data"]
    assert power["value"] == esme.read_instantaneous_power(site.clock.now()).value > 0
    assert [e["value"] for e in scaler_unit["elements"]] == [0, 27]  # W

    esme.load_limit_counter = 3
    _, view = _answer(site, _template("ECS27"))
    assert view["access_response_list_of_data"][-1]["value"] == 3

    esme.randomised_offset_limit_s = 1800
    _, view = _answer(site, _template("ECS26c"))
    assert view["access_response_list_of_data"][0]["value"] == 1800


def test_export_profile_reports_the_export_register(site: Site) -> None:
    esme = _esme(site)
    esme.pv_peak_w = 4000
    site.clock.advance(12 * 3600)  # 01:00 -> 13:00, through the morning's generation
    _, view = _answer(site, _template("ECS22a"))
    rows = view["access_response_list_of_data"][0]["contents"]
    now = site.clock.now()
    expected = esme.read_export_half_hour_profile(now - timedelta(days=1), now, now).value
    assert [r["elements"][1]["value"] for r in rows] == [e.wh for e in expected]
    assert sum(e.wh for e in expected) > 0


def test_commands_of_other_objects_of_the_same_kind_are_read_by_their_structure(site: Site) -> None:
    """A command naming a maximum demand register or schedule by another OBIS code (e.g. a
    GBCS version's) is still understood: registers by quantity and period, schedules by
    class."""
    esme = _esme(site)
    esme.max_demand = MaxDemand(import_w=5000, export_w=300, period_import_w=4000)
    msg = codec.decode(_command(_template("ECS57_6.18.2_SOME"), site.keys))

    def rename(view: Any) -> None:
        view["access_request_list_of_specification"][0]["cosem_method_descriptor"][
            "instance_id"] = "1-0:2.6.0.126"  # export, another billing-period stamp
    answer = site.endpoint.answer(site.command(edited(msg, rename)))
    assert answer.executed and esme.max_demand == MaxDemand(5000, 0, 4000)

    msg = codec.decode(_command(_template("ECS37"), site.keys))

    def other_schedule(view: Any) -> None:
        view["access_request_list_of_specification"][0]["cosem_attribute_descriptor"][
            "instance_id"] = "0-0:12.0.9.255"
    answer = site.endpoint.answer(site.command(edited(msg, other_schedule)))
    assert answer.executed and esme.max_demand_period == (time(17), time(22))


def test_a_reset_naming_no_register_is_refused_and_changes_nothing(site: Site) -> None:
    esme = _esme(site)
    esme.max_demand = MaxDemand(import_w=5000, export_w=300, period_import_w=4000)
    msg = codec.decode(_command(_template("ECS57_6.18.2_SOME"), site.keys))

    def voltage(view: Any) -> None:
        view["access_request_list_of_specification"][0]["cosem_method_descriptor"][
            "instance_id"] = "1-0:32.7.0.255"
    answer = site.endpoint.answer(site.command(edited(msg, voltage)))
    assert not answer.executed and esme.max_demand == MaxDemand(5000, 300, 4000)
    assert not parse(answer.messages[0], keys=site.keys.supplier_side).success


def _dated(path: Path, at: datetime, tmp_path: Path) -> Path:
    """The template with its ExecutionDateTime set to `at`."""
    text = re.sub(r"<sr:ExecutionDateTime>[^<]*</sr:ExecutionDateTime>",
                  f"<sr:ExecutionDateTime>{at.strftime('%Y-%m-%dT%H:%M:%S.00Z')}</sr:ExecutionDateTime>",
                  path.read_text())
    out = tmp_path / path.name
    out.write_text(text)
    return out


def test_ecs02_switches_a_prepayment_esme_to_credit(site: Site) -> None:
    esme = _esme(site)
    esme.payment_mode = PaymentMode.PREPAYMENT
    executed, view = _answer(site, _template("ECS02_1.6_IMMEDIATE"))
    assert executed and esme.payment_mode is PaymentMode.CREDIT
    assert [r["@type"] for r in view["access_response_specification"]] == ["access-response-set"] * 2
    # Visible over GBCS: ECS26j reads the Account's payment mode back as credit (1).
    read = site.endpoint.answer(site.command(rtds("ECS26j_6.2.9_SUCCESS_COMMAND_GBCS.HEX")))
    mode = payload_view(read.messages[0], site.keys.supplier_side)["access_response_list_of_data"][0]
    assert mode["elements"][0]["value"] == 1


def test_ecs02_future_dated_is_held_until_due_and_a_cancellation_drops_it(
        site: Site, tmp_path: Path) -> None:
    esme = _esme(site)
    esme.payment_mode = PaymentMode.PREPAYMENT
    future = _dated(_template("ECS02_1.6_FUTURE_DATED"), site.clock.now() + timedelta(hours=2), tmp_path)
    executed, _ = _answer(site, future)
    assert executed and [p.use_case for p in esme.pending()] == ["ECS02"]
    assert esme.payment_mode is PaymentMode.PREPAYMENT
    _answer(site, _template("ECS02_1.6_CANCELLATION"))
    assert esme.pending() == []
    site.clock.advance(3 * 3600)
    assert esme.payment_mode is PaymentMode.PREPAYMENT
    _answer(site, _dated(_template("ECS02_1.6_FUTURE_DATED"), site.clock.now() + timedelta(hours=1),
                         tmp_path))
    site.clock.advance(2 * 3600)
    assert esme.payment_mode is PaymentMode.CREDIT and esme.pending() == []


def test_daily_block_counter_reset_restarts_the_block_counter_at_local_midnight(site: Site) -> None:
    """ECS48 on: the block counter starts again at 00:00 UK time by the ESME's clock (23:00
    UTC in summer), not at midnight UTC; off: the meter's own block period (the UTC day)."""
    esme = _esme(site)
    _answer(site, _template("ECS48"))
    assert esme.daily_block_counter_reset is True
    half_hour = timedelta(minutes=30)
    local_midnight = datetime(2026, 4, 1, 23, tzinfo=UTC)  # 2026-04-02 00:00 BST
    before = esme.settle(local_midnight).day_wh
    after = esme.settle(local_midnight + half_hour).day_wh
    assert before > after == esme.register(local_midnight + half_hour) - esme.register(local_midnight)
    utc_midnight = local_midnight + timedelta(hours=1)
    counted = esme.settle(utc_midnight + half_hour).day_wh
    assert counted == esme.register(utc_midnight + half_hour) - esme.register(local_midnight)

    esme.daily_block_counter_reset = False
    next_local = local_midnight + timedelta(days=1)
    before = esme.settle(next_local).day_wh
    assert esme.settle(next_local + half_hour).day_wh == before + (
        esme.register(next_local + half_hour) - esme.register(next_local))
    next_utc = next_local + timedelta(hours=1)
    assert esme.settle(next_utc + half_hour).day_wh == (
        esme.register(next_utc + half_hour) - esme.register(next_utc))


def test_an_export_profile_read_is_answered_by_its_use_case_whatever_the_profile_object(
        site: Site) -> None:
    """ECS22a's profile object is a guess of the command form: the ESME answers the read of
    ECS22a with its export profile whichever Profile Generic it names."""
    esme = _esme(site)
    esme.pv_peak_w = 4000
    site.clock.advance(12 * 3600)
    msg = codec.decode(_command(_template("ECS22a"), site.keys))

    def other_profile(view: Any) -> None:
        view["access_request_list_of_specification"][0]["cosem_attribute_descriptor"][
            "instance_id"] = "0-0:99.1.9.255"
    answer = site.endpoint.answer(site.command(edited(msg, other_profile)))
    assert answer.executed
    rows = payload_view(answer.messages[0], site.keys.supplier_side)["access_response_list_of_data"][0]
    now = site.clock.now()
    expected = esme.read_export_half_hour_profile(now - timedelta(days=1), now, now).value
    assert [r["elements"][1]["value"] for r in rows["contents"]] == [e.wh for e in expected]


def test_max_demand_reads_report_the_registers_by_their_blue_book_codes(site: Site) -> None:
    """ECS18b reads the maximum demand registers (class 4): the ESME knows each by Blue Book
    rule (D 6, C 1 import / 2 export, E 0 whole / other the configurable period)."""
    esme = _esme(site)
    esme.max_demand = MaxDemand(import_w=5000, export_w=300, period_import_w=4000)
    command = rtds("ECS18b_4.12.1_SUCCESS_COMMAND_GBCS.HEX")
    answer = site.endpoint.answer(site.command(command))
    assert answer.executed
    view = payload_view(answer.messages[0], site.keys.supplier_side)
    sent = codec.to_json(command)["Payload"]["Decoded"]["access_request_list_of_specification"]
    values = {}
    for spec, data in zip(sent, view["access_response_list_of_data"], strict=True):
        d = spec["cosem_attribute_descriptor"]
        if (d["class_id"], d["attribute_id"]) == (4, 2):
            values[d["instance_id"]] = data["value"]
    registers = esme.read_max_demand(site.clock.now()).value
    assert values.pop("1-0:1.6.0.255") == registers.import_w  # Blue Book: whole period
    assert list(values.values()) == [registers.period_import_w]  # the other E: configurable
