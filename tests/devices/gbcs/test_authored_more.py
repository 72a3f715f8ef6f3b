"""The ESME and the GSME execute the use cases of `core.transform.authored.more` as the
Transform sends them (`devices.gbcs.authored_more`): log reads report the meter's register and
prepayment state for the period asked, CS11 clears the event log, ECS12 and ECS50 are
recorded; every Response verifies and renders as valid MMC."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.gbcs.sites import Site, payload_view
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.core.transform import transform
from opendcc.core.transform.authored import more
from opendcc.core.transform.learn import load_command_data
from opendcc.devices.gbcs.authored_more import GBCS_DEVICE_TYPES, log_rows
from opendcc.devices.prepayment import Debt
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec

ESME_ID, GSME_ID = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1"
SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
LEARNED = load_command_data(reference_dir().resolve())[0]["forms"]
AUTHORED = {f["use_case"] for f in more.forms(LEARNED)}
TEMPLATES = sorted(p for p in (reference_dir() / "duis" / "templates").glob("*.XML")
                   if p.name.split("_")[0] in AUTHORED and "_5.1" not in p.name)


def _template(prefix: str) -> Path:
    return next(p for p in TEMPLATES if p.name.startswith(prefix))


def _command(path: Path, site: Site, period: tuple[datetime, datetime] | None) -> bytes:
    root = parse_xml(path.read_bytes())
    if period is not None:
        for tag, at in zip(("StartDateTime", "EndDateTime"), period, strict=True):
            for node in root.iter(f"{SR}{tag}"):
                node.text = at.strftime("%Y-%m-%dT%H:%M:%S.00Z")
    device_type = "ESME" if path.name.startswith("ECS") else \
        "GPF" if "_URP_" in path.name else "GSME"
    result = transform(read_request(root), now=site.clock.now(), counter=10**13,
                       keys=site.keys.device_side, device_type=device_type)
    assert not result.pre_command
    return result.gbcs


def _answer(site: Site, path: Path,
            period: tuple[datetime, datetime] | None = None) -> tuple[bool, Any]:
    answer = site.endpoint.answer(site.command(codec.decode(_command(path, site, period))))
    parsed = parse(answer.messages[0], keys=site.keys.supplier_side)
    validate_mmc(parsed.to_mmc_xml())
    assert parsed.success == answer.executed
    return answer.executed, payload_view(answer.messages[0], site.keys.supplier_side)


def _days_back(site: Site, days: int) -> tuple[datetime, datetime]:
    now = site.clock.now()
    return now - timedelta(days=days), now


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_the_device_executes_the_template_and_answers(path: Path, site: Site) -> None:
    executed, view = _answer(site, path)
    assert executed
    assert view["@type"] in ("access-response", "gbz-payload", "SEQUENCE")


def _rows(view: dict[str, Any]) -> list[tuple[datetime, int]]:
    (log,) = view["access_response_list_of_data"]
    return [(EPOCH_2000 + timedelta(seconds=row["elements"][0]["value"]), row["elements"][1]["value"])
            for row in log.get("elements", [])]


def test_daily_read_log_is_the_register_at_each_midnight_of_the_period(site: Site) -> None:
    site.clock.advance(3 * 86400)
    esme: Any = site.estate.device(ESME_ID)
    period = _days_back(site, 3)
    executed, view = _answer(site, _template("ECS21a_4.6.1_SINGLE"), period)
    rows = _rows(view)
    assert executed and len(rows) == 3
    for at, wh in rows:
        assert at.time() == datetime.min.time() and period[0] <= at <= period[1]
        assert wh == esme.register(at)
    assert [wh for _, wh in rows] == sorted(wh for _, wh in rows)


def test_billing_calendar_log_has_an_entry_at_each_billing_period_start(site: Site) -> None:
    site.clock.advance(40 * 86400)  # past 1 February
    esme: Any = site.estate.device(ESME_ID)
    executed, view = _answer(site, _template("ECS20c"), _days_back(site, 40))
    rows = _rows(view)
    assert executed and [at.day for at, _ in rows] == [1]
    assert rows[0][1] == esme.register(rows[0][0])
    executed, view = _answer(site, _template("ECS20b"), _days_back(site, 40))
    assert executed and _rows(view) == []  # no change of mode or tariff is recorded


def test_a_period_outside_the_log_gives_no_rows(site: Site) -> None:
    esme: Any = site.estate.device(ESME_ID)
    future = (site.clock.now() + timedelta(days=1), site.clock.now() + timedelta(days=2))
    start, end = (int((at - EPOCH_2000).total_seconds()) for at in future)
    view = {"@type": "access-request", "access_request_list_of_specification": [
        {"access_selection": {"access_parameters": {"elements": [
            {}, {"value": start}, {"value": end}]}}}]}
    assert log_rows("ECS21a", esme, view, site.clock.now()) == []


def _fields(view: dict[str, Any]) -> dict[str, Any]:
    (component,) = view["components"]
    fields: dict[str, Any] = component["zcl_frame"]["payload"]["fields"]
    return fields


def test_clear_event_log_empties_the_gsme_event_log(site: Site) -> None:
    gsme: Any = site.estate.device(GSME_ID)
    gsme.log_event(0x8001, site.clock.now(), "a test event")
    assert gsme.event_log is not None
    executed, view = _answer(site, _template("CS11"))
    assert executed and gsme.event_log is None
    assert _fields(view)["cleared_events_logs"] == 1 << more.GBCS_EVENT_LOG


def test_prepayment_daily_read_reports_the_gsme_balance_and_debts(site: Site) -> None:
    gsme: Any = site.estate.device(GSME_ID)
    gsme.update_debt(Debt(payment_debt=1234, time_debt_1=56), site.clock.now())
    registers = gsme.read_prepayment_registers(site.clock.now()).value
    executed, view = _answer(site, _template("GCS16b_4.14_KRP"), _days_back(site, 1))
    fields = _fields(view)
    assert executed and fields["total_snapshots_found"] == 1
    sub = fields["snapshot_sub_payload"]
    assert sub["credit_remaining"] == registers.balance * 10
    assert sub["type_3_debt_remaining"] == 1234 * 10 and sub["type_1_debt_remaining"] == 56 * 10


def test_debt_repayment_log_is_answered_with_no_records(site: Site) -> None:
    executed, view = _answer(site, _template("GCS15d"), _days_back(site, 1))
    assert executed and _fields(view)["debt_payload"] == []


def test_change_of_tenancy_and_cin_are_recorded_on_the_esme(site: Site) -> None:
    for prefix in ("ECS12", "ECS50"):
        executed, view = _answer(site, _template(prefix))
        assert executed and view["access_response_specification"][0]["result"] == 0
        assert prefix in site.endpoint.settings.of(ESME_ID)



def test_join_details_list_the_devices_joined_to_the_gsme(site: Site) -> None:
    gsme: Any = site.estate.device(GSME_ID)
    joined = gsme.read_device_join_details(site.clock.now()).value
    assert joined, "the boxed GSME has HAN devices joined to it"
    executed, view = _answer(site, _template("CS07"))
    assert executed and view["name"] == "ReadDeviceJoinDetailsResponse"
    code, entries = view["elements"]
    assert code["value"] == 0
    listed = {e["elements"][0]["value"]: e["elements"][1]["value"] for e in entries["elements"]}
    assert listed == {d.replace("-", "").lower(): GBCS_DEVICE_TYPES.get(
        site.estate.device(d).kind, 6) if d in site.estate else 6 for d in joined}


def test_the_gsme_joins_the_other_device_by_a_signed_method_c_join(site: Site) -> None:
    path = next((reference_dir() / "duis" / "templates").glob("CS03CCritical_8.7.1_*.XML"))
    root = parse_xml(path.read_bytes())
    other = root.findtext(f".//{SR}OtherDeviceID")
    gsme: Any = site.estate.device(GSME_ID)
    if other in gsme.han_devices:
        gsme.unjoin_device(other, site.clock.now())
    result = transform(read_request(root), now=site.clock.now(), counter=10**13,
                       keys=site.keys.device_side, device_type="GSME")
    assert result.pre_command
    # The supplier signs the Pre-Command (serviceT), the DCC MACs it for the device (serviceS).
    apdu = dataclasses.replace(codec.decode(result.gbcs).apdu, signature=bytes(64))
    command = codec.add_mac_header(codec.sign_apdu(apdu, site.keys.device_side),
                                   site.keys.device_side)
    answer = site.endpoint.answer(site.command(codec.decode(bytes(command))))
    assert answer.executed and answer.device == GSME_ID
    assert other in gsme.han_devices
    parsed = parse(answer.messages[0], keys=site.keys.supplier_side)
    validate_mmc(parsed.to_mmc_xml())
    assert parsed.success
