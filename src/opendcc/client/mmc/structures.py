"""SMETSData builders for structures the field language of `builders` does not reach.

Registered by the names `tables.json` (`builders`) gives them: the billing calendar, the
security credentials of CS02e/f, electricity tariffs (DLMS activity calendar and special days)
and gas event behaviours. Each reads the payload's decrypted JSON view and says whether it
rendered every value the schema has a place for.
"""

from __future__ import annotations

import base64
from typing import Any

from lxml import etree

from opendcc.client.mmc.builders import (
    Json,
    _certificate_usage,
    _dlms,
    _ensure,
    _zcl_command_field,
    apply_specs,
    convert,
)
from opendcc.client.mmc.render import Renderable, builder, ra
from opendcc.client.mmc.tables import tables


@builder("billing-calendar")
def billing_calendar(msg: Renderable, el: etree._Element) -> bool:
    """SRV 6.2.3: the billing calendar, from the ESME's single-action schedule execution times
    (COSEM time and date wildcards, GBCS ECS26d/l) or the GSME's Publish Billing Period."""
    view = msg.decrypted.view or {}
    start = _zcl_command_field(view, "billing_period_start_time")
    if isinstance(start, int):
        duration = _zcl_command_field(view, "billing_period_duration")
        kind = _zcl_command_field(view, "billing_period_duration_type")
        # ZCL BillingPeriodDurationType: bits 0-1 the timebase (minutes, days, weeks, months)
        key = f"{int(kind or 0) & 0x03}:{duration}"
        periodicity = tables().gas_billing_periodicity.get(key)
        gas = etree.SubElement(etree.SubElement(el, ra("BillingCalendar")), ra("GasBillingCalendar"))
        etree.SubElement(gas, ra("BillingPeriodStart")).text = convert(start, "utc2000", view)
        if periodicity is None:
            el.remove(el[-1])
            return False
        etree.SubElement(gas, ra("Periodicity")).text = periodicity
        return msg.outcome.known
    rows = _dlms(view, "0.rows")
    if not rows:
        return msg.outcome.known
    times = {convert(row[0], "time", view) for row in rows if len(row) == 2}
    dates = [bytes.fromhex(str(row[1])) for row in rows if len(row) == 2]
    if len(times) != 1 or None in times or any(len(d) != 5 for d in dates):
        return False
    month, day, weekday = dates[0][2], dates[0][3], dates[0][4]
    calendar = etree.SubElement(etree.SubElement(el, ra("BillingCalendar")), ra("ElectricityBillingCalendar"))
    etree.SubElement(calendar, ra("BillingTime")).text = times.pop()
    if len(dates) == 1 and month == day == weekday == 0xFF:
        etree.SubElement(calendar, ra("Daily"))
    elif len(dates) == 1 and weekday != 0xFF:
        etree.SubElement(calendar, ra("Weekly")).text = str(weekday)
    elif len(dates) == 1 and month == 0xFF:
        etree.SubElement(calendar, ra("Monthly")).text = str(day)
    else:
        # one date a year, two (six-monthly) or four (quarterly): the first names the month
        period = {1: "Yearly", 2: "SixMonthly", 4: "Quarterly"}.get(len(dates))
        if period is None or month == 0xFF:
            el.remove(el[-1])
            return False
        qsmy = etree.SubElement(calendar, ra(period))
        etree.SubElement(qsmy, ra("DayOfMonth")).text = str(day)
        etree.SubElement(qsmy, ra("BillingPeriodStartMonth")).text = str(month)
    return msg.outcome.known


@builder("device-certificate")
def device_certificate(msg: Renderable, el: etree._Element) -> bool:
    """CS02e: the device's certificate (the payload is its DER), or the response code."""
    view = msg.decrypted.view or {}
    if view.get("@type") == "INTEGER":
        code = int(view.get("value", -1))
        status = tables().asn1_status_names.get(code)
        node = etree.SubElement(el, ra("RetrieveDeviceSecurityCredentialsStatusCode"), ResponseCode=str(code))
        etree.SubElement(node, ra("ASN1Status")).text = status or "other"
        return status is not None
    etree.SubElement(el, ra("Certificate")).text = base64.b64encode(msg.content).decode("ascii")
    return True


@builder("krp-credentials")
def krp_credentials(msg: Renderable, el: etree._Element) -> bool:
    """CS02f: per remote party, its status, floor sequence number and each trust anchor cell
    (one RemotePartyDetails per cell: MMC gives each its own role and status)."""
    view = msg.decrypted.view or {}
    t = tables()
    complete = True
    for party in view.get("elements", []):
        fields = party.get("elements", []) if isinstance(party, dict) else []
        values = [f.get("value") if isinstance(f, dict) else None for f in fields[:3]]
        role = t.remote_party_roles.get(int(values[0])) if isinstance(values[0], int) else None
        status = values[1] if len(values) > 1 else None
        cells = fields[3].get("elements", []) if len(fields) > 3 and isinstance(fields[3], dict) else [None]
        for cell in cells:
            details = etree.SubElement(el, ra("RemotePartyDetails"))
            if role is None:
                complete = False
            else:
                etree.SubElement(details, ra("RemotePartyRole")).text = role
            if isinstance(status, int):
                node = etree.SubElement(details, ra("StatusCode"), ResponseCode=str(status))
                name = t.asn1_status_names.get(status)
                complete &= name is not None
                etree.SubElement(node, ra("ASN1Status")).text = name or "other"
            if len(values) > 2 and isinstance(values[2], int):
                etree.SubElement(details, ra("RemotePartyFloorSeqNumber")).text = str(values[2])
            if cell is None:
                continue
            parts = [e.get("value") for e in cell.get("elements", []) if isinstance(e, dict) and "value" in e
                     and e.get("@type") == "OCTET STRING"]
            usage = _certificate_usage(cell)
            complete &= usage is not None and len(parts) == 2
            if usage:
                etree.SubElement(details, ra("CertificateUsage")).text = usage
            if len(parts) == 2:
                etree.SubElement(details, ra("ExistingRemotePartyID")).text = convert(parts[0], "eui", view)
                etree.SubElement(details, ra("ExistingCertificateHash")).text = convert(parts[1], "base64", view)
    return complete and msg.outcome.known


def _cosem_date(parent: etree._Element, name: str, raw: bytes) -> bool:
    """MMC ra:Date from COSEM date octets (year 2, month, day of month, day of week), each
    field Specified or NonSpecified (0xFF / 0xFFFF); day 0xFE/0xFD: last / second last."""
    if len(raw) < 5:
        return False
    date = etree.SubElement(parent, ra(name))
    year = int.from_bytes(raw[:2], "big")
    fields = [("Year", year, year == 0xFFFF), ("Month", raw[2], raw[2] == 0xFF),
              ("DayOfMonth", raw[3], raw[3] == 0xFF), ("DayOfWeek", raw[4], raw[4] == 0xFF)]
    for field, value, unspecified in fields:
        node = etree.SubElement(date, ra(field))
        if field == "DayOfMonth" and value in (0xFE, 0xFD):
            etree.SubElement(node, ra("LastDayOfMonth" if value == 0xFE else "SecondLastDayOfMonth"))
        elif unspecified:
            etree.SubElement(node, ra(f"NonSpecified{field}"))
        else:
            etree.SubElement(node, ra(f"Specified{field}")).text = str(value)
    return True


def _elements(node: Any) -> list[Any]:
    """The members of a DLMS structure/array (or a compact array's rows), else []."""
    if not isinstance(node, dict):
        return []
    out = node.get("elements", node.get("contents"))
    return out if isinstance(out, list) else []


def _tariff_action(selector: int) -> tuple[str, int] | None:
    """GBCS tariff switching script selector -> (MMC action element, register or block)."""
    for span, (name, base) in tables().tariff_script_actions.items():
        low, _, high = span.partition("-")
        if int(low) <= selector <= int(high or low):
            return name, selector - base
    return None


def _activity_calendar(table: etree._Element, view: Json, at: dict[str, str]) -> bool:
    """DLMS activity calendar (class 20) day, week and season profiles as an MMC tariff
    switching table; `at` names the data items holding each (`tariff_calendars`)."""
    complete = True
    days = etree.SubElement(table, ra("DayProfiles"))
    for day in _elements(_dlms_node(view, at["days"])):
        parts = _elements(day)
        if len(parts) != 2:
            return False
        profile = etree.SubElement(days, ra("DayProfile"))
        etree.SubElement(profile, ra("Day")).text = str(parts[0].get("value"))
        for action in _elements(parts[1]):
            start, _, selector = (e.get("value") for e in _elements(action))
            found = _tariff_action(int(selector))
            schedule = etree.SubElement(profile, ra("ProfileSchedule"))
            etree.SubElement(schedule, ra("StartTime")).text = convert(start, "time", view)
            if found is None:
                complete = False
                continue
            etree.SubElement(schedule, ra(found[0])).text = str(found[1])
    weeks = etree.SubElement(table, ra("WeekProfiles"))
    for week in _elements(_dlms_node(view, at["weeks"])):
        parts = [e.get("value") for e in _elements(week)]
        profile = etree.SubElement(weeks, ra("WeekProfile"))
        etree.SubElement(profile, ra("WeekName")).text = str(int(str(parts[0]), 16))
        for i, day_id in enumerate(parts[1:8], 1):
            etree.SubElement(profile, ra("ReferencedElecDay"), index=str(i)).text = str(day_id)
    seasons = etree.SubElement(table, ra("Seasons"))
    for season in _elements(_dlms_node(view, at["seasons"])):
        name, start, week = (str(e.get("value")) for e in _elements(season))
        entry = etree.SubElement(seasons, ra("Season"))
        etree.SubElement(entry, ra("SeasonName")).text = bytes.fromhex(name).decode("ascii", "replace")
        complete &= _cosem_date(entry, "SeasonStartDate", bytes.fromhex(start))
        etree.SubElement(entry, ra("ReferencedWeekName")).text = str(int(week, 16))
    return complete


def _dlms_node(view: Json, path: str) -> Any:
    node: Any = {"elements": view.get("access_response_list_of_data") or []}
    for step in path.split("."):
        members = _elements(node)
        if int(step) >= len(members):
            return None
        node = members[int(step)]
    return node


@builder("electricity-tariff")
def electricity_tariff(msg: Renderable, el: etree._Element) -> bool:
    """SRV 4.11 (ECS24, ECS24b): prices from the use case's field specs (`tariff_fields`), the
    tariff switching table from the activity calendar and its special days (`tariff_calendars`),
    then the fields the schema places after them (`tariff_fields` under `UseCase:after`)."""
    view = msg.decrypted.view
    at = tables().tariff_calendars.get(msg.use_case)
    if view is None or at is None:
        return False
    t = tables()
    complete = apply_specs(el, t.tariff_fields.get(msg.use_case, ()), view, complete=msg.outcome.known)
    parent = _ensure(el, at.get("parent", ""))
    # (items a device could not read are null: their part is left out, as for any field)
    if _elements(_dlms_node(view, at["days"])):
        complete &= _activity_calendar(etree.SubElement(parent, ra("TariffSwitchingTable")), view, at)
    entries = _elements(_dlms_node(view, at["special_days"]))
    special = etree.SubElement(parent, ra("TariffSwitchingTableSpecialDays")) if entries else parent
    for entry in entries:
        _, date, day_id = (e.get("value") for e in _elements(entry))
        day = etree.SubElement(special, ra("SpecialDay"))
        complete &= _cosem_date(day, "Date", bytes.fromhex(str(date)))
        etree.SubElement(day, ra("ReferencedDay")).text = str(day_id)
    # fields the schema places after the switching table (the primary's thresholds)
    return apply_specs(el, t.tariff_fields.get(f"{msg.use_case}:after", ()), view, complete=complete)


@builder("gas-event-behaviours")
def gas_event_behaviours(msg: Renderable, el: etree._Element) -> bool:
    """SRV 6.2.10 (GCS20r): per event, from its ZCL event configuration bitmap, whether it is
    pushed as a WAN or HAN alert, logged, or raises an alarm (`gas_event_configuration`),
    the events in the schema's order (`gas_event_settings`)."""
    view = msg.decrypted.view or {}
    entries = _zcl_command_field(view, "event_configuration_payload")
    if not isinstance(entries, list):
        return msg.outcome.known
    t = tables()
    order = {code: i for i, code in enumerate(t.gas_event_settings)}
    known = sorted((e for e in entries if e.get("event_id") in order), key=lambda e: order[e["event_id"]])
    settings = etree.SubElement(el, ra("GasSupplierAlertEventSettings"))
    for entry in known:
        event = etree.SubElement(settings, ra(f"x{entry['event_id']:04X}"))
        configuration = int(entry.get("event_configuration", 0))
        for name, bits in t.gas_event_configuration.items():
            etree.SubElement(event, ra(name)).text = "Enable" if configuration & bits else "Disable"
    return len(known) == len(entries) and msg.outcome.known
