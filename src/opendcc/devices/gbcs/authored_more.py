"""The device side of the forms of `core.transform.authored.more`: what the ESME and the GSME
read, and the Response structures GBCS gives, for use cases with no RTDS vector.

Tables merged into the general ones by one-line hooks, as `authored_electricity` does:

- `ARGUMENTS` (into `arguments.arguments`): the ReadLogPeriod a log read names (DLMS range
  selective access, ZCL earliest start / latest end time).
- `use_case_value` (into `values._fill_dlms`): the rows of the ESME logs: the Daily Read Log
  (ECS21a: the import register at each midnight of the period), the billing calendar
  triggered Billing Data Log (ECS20c: the register at each billing period start; the ESME's
  billing calendar is only recorded, so a monthly period from the 1st, 00:00 UTC, is taken)
  and the change of mode / tariff triggered one (ECS20b: no entries, the emulated ESME keeps no
  record of when its mode or tariff changed). Each row is {UTC time (s since 2000), Wh}, the
  columns the ESME's other authored log read (ECS22a) reports.
- `response_form` (into `forms.form_for`): those reads' access-response (one array, result
  success); CS11's Clear Event Log Response (SE 1.4 Events 0x02) saying which log was cleared;
  GCS16b's Publish Prepay Snapshot (SE 1.4 Prepayment 0x01) with the GSME's balance and debts
  now (the emulated GSME keeps no daily prepayment snapshots: one snapshot, of the time of the
  read); GCS15d's Publish Debt Log (0x06) with no records (no log of debt collections is
  kept). GBCS sends GSME log reads encrypted; these two Responses are sent in clear here.
- ECS12 and ECS50 are recorded (`settings.RECORDED`) and answered by `forms.built_form`
  (a DLMS set).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from opendcc.devices.device import DeviceType
from opendcc.devices.gbcs.arguments import CommandContext, zcl_fields
from opendcc.devices.gbcs.authored_gas_hub import default_responses
from opendcc.devices.gbcs.templates import ResponseForm, shape_key

if TYPE_CHECKING:
    from opendcc.devices.gbcs.values import FillContext

_EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
#: How far back the logs reach (GBCS: the daily read log keeps 731 days).
_RETENTION = timedelta(days=731)
_DAY = timedelta(days=1)
#: ZCL frame control of a cluster-specific server -> client command, default response
#: disabled; of a general command server -> client (Default Response); Default Response id.
_SPECIFIC_RESPONSE = 0x19  # ZCL frame control: cluster-specific, server to client
_ZCL_FAILURE = 0x01
#: GBCS ASN.1 responseCode of a command the device refuses (as `authored_gas_hub`'s).
_REFUSED = 1
#: GBCS device types of a device log entry (the CHF device log's enumeration: GSME 0, ESME 1,
#: CHF 2, GPF 3, HCALCS 4, PPMID 5, Type 2 6). Unconfirmed for CS07's entries.
GBCS_DEVICE_TYPES = {DeviceType.GSME: 0, DeviceType.ESME: 1, DeviceType.CHF: 2,
                     DeviceType.GPF: 3, DeviceType.HCALCS: 4, DeviceType.PPMID: 5,
                     DeviceType.IHD: 6, DeviceType.CAD: 6}
_TYPE_2 = 6  # a device the estate does not hold: a Type 2 device (IHD, CAD)
#: DLMS Data-Access-Result other-reason.
_DLMS_OTHER_REASON = 250
#: SE 1.4 clusters and the Responses: Events Clear Event Log Response, Prepayment Publish
#: Prepay Snapshot and Publish Debt Log.
_EVENTS, _PREPAYMENT = 0x0709, 0x0705
_CLEAR_EVENT_LOG_RESPONSE, _PUBLISH_PREPAY_SNAPSHOT, _PUBLISH_DEBT_LOG = 0x02, 0x01, 0x06
#: SE 1.4 Prepay Snapshot Payload Type 0: debt / credit status.
_DEBT_CREDIT_STATUS = 0
#: GBCS DLMS and ZSE money: 10^-5 currency units per device unit (1/100 p).
_MONEY_SCALE = 10
#: Use cases the ESME records (`settings.RECORDED`): Set Change of Tenancy date, Send CIN. The
#: emulated ESME has no model of either; the set is answered by `forms.built_form`.
RECORDED = {"ECS12": DeviceType.ESME, "ECS50": DeviceType.ESME}
#: The ESME logs answered here.
LOG_READS = ("ECS20b", "ECS20c", "ECS21a")


def _utc(seconds: Any) -> datetime | None:
    return _EPOCH_2000 + timedelta(seconds=seconds) if isinstance(seconds, int) and seconds else None


def period(view: Any) -> tuple[datetime | None, datetime | None]:
    """The (start, end) a log read names: a DLMS range selective access's from / to (UTC
    seconds since 2000), else the first ZCL command's earliest start / latest end time."""
    if isinstance(view, dict) and view.get("@type") == "access-request":
        for spec in view.get("access_request_list_of_specification") or []:
            params = (spec.get("access_selection") or {}).get("access_parameters") or {}
            elements = params.get("elements") or []
            if len(elements) >= 3:
                return _utc(elements[1].get("value")), _utc(elements[2].get("value"))
        return None, None
    fields = zcl_fields(view)
    return _utc(fields.get("earliest_start_time")), _utc(fields.get("latest_end_time"))


def _window(view: Any, now: datetime) -> tuple[datetime, datetime]:
    """The period, within what the device can answer: not before its retention, not after now."""
    start, end = period(view)
    end = min(end or now, now)
    return max(start or end - _DAY, now - _RETENTION), end


def _last_day(ctx: CommandContext) -> dict[str, Any]:
    """The device method's own read (the day before now, always within the log): the rows
    answered are the command's period's (`use_case_value`), empty where the log has none."""
    return {"start": ctx.now - _DAY, "end": ctx.now}


ARGUMENTS: dict[str, Callable[[CommandContext], dict[str, Any]]] = {
    "ECS20b": _last_day,
    "ECS20c": _last_day,
}


# --- ESME log rows ---------------------------------------------------------------------------

def _midnights(start: datetime, end: datetime) -> list[datetime]:
    t = start.replace(hour=0, minute=0, second=0, microsecond=0)
    t = t if t >= start else t + _DAY
    out = []
    while t <= end:
        out.append(t)
        t += _DAY
    return out


def log_rows(use_case: str, device: Any, view: Any, now: datetime) -> list[tuple[datetime, int]]:
    """The (time, Wh) rows of an ESME log read, from the meter's register (its load model)."""
    start, end = _window(view, now)
    register: Callable[[datetime], int] | None = getattr(device, "register", None)
    if register is None or end <= start or use_case == "ECS20b":
        return []
    days = _midnights(start, end)
    if use_case == "ECS20c":
        days = [d for d in days if d.day == 1]
    return [(d, register(d)) for d in days]


def _log(ctx: FillContext, node: Any) -> Any:
    rows = log_rows(ctx.use_case, ctx.device, ctx.command, ctx.now)
    return {"@type": "array", "elements": [
        {"@type": "structure", "elements": [
            {"@type": "double-long-unsigned", "value": int((at - _EPOCH_2000).total_seconds())},
            {"@type": "double-long-unsigned", "value": wh}]} for at, wh in rows]}


def use_case_value(use_case: str, class_id: int, attribute: int) -> Callable[[FillContext, Any], Any] | None:
    """The getter of a Profile Generic buffer read of one of `LOG_READS`, else None."""
    return _log if use_case in LOG_READS and (class_id, attribute) == (7, 2) else None


# --- Response structures ---------------------------------------------------------------------

def _log_response(command_view: Any, success: bool) -> dict[str, Any]:
    """The log as an array (rows by `use_case_value`); refused: no data, result other-reason."""
    return {"@type": "access-response",
            "long_invoke_id_and_priority": command_view.get("long_invoke_id_and_priority", 0),
            "date_time": "", "access_request_specification": None,
            "access_response_list_of_data": [{"@type": "array", "elements": []} if success
                                             else {"@type": "null-data"}],
            "access_response_specification": [{"@type": "access-response-get",
                                               "result": 0 if success else _DLMS_OTHER_REASON}]}


def _component(cluster: int, command_id: int, command: str, fields: dict[str, Any],
               sequence: int = 0) -> dict[str, Any]:
    return {"@type": "gbz-component", "extended_header_control_field": 1,
            "extended_header_cluster_id": cluster,
            "zcl_frame": {"@type": "zcl-frame", "frame_control": _SPECIFIC_RESPONSE,
                          "transaction_sequence_number": sequence,
                          "command_identifier": command_id,
                          "payload": {"@type": "cluster-command", "command": command,
                                      "fields": fields}}}


def _cleared(command_view: Any) -> dict[str, Any]:
    """CS11: Clear Event Log Response, ClearedEventsLogs with the bit of the log cleared (SE 1.4:
    bit n for Log ID n; bit 0 when all were asked for)."""
    log_id = int(zcl_fields(command_view, "events/clear-event-log-request").get("log_id", 0))
    return {"@type": "gbz-payload", "components": [_component(
        _EVENTS, _CLEAR_EVENT_LOG_RESPONSE, "events/clear-event-log-response",
        {"cleared_events_logs": 1 << log_id if 0 <= log_id < 8 else 0})]}


def _prepay_snapshot() -> dict[str, Any]:
    """GCS16b: one Publish Prepay Snapshot (values by `PAYLOAD_VALUES`)."""
    return {"@type": "gbz-payload", "components": [_component(
        _PREPAYMENT, _PUBLISH_PREPAY_SNAPSHOT, "prepayment/publish-prepay-snapshot",
        {"snapshot_id": 0, "snapshot_time": 0, "total_snapshots_found": 1, "command_index": 0,
         "total_number_of_commands": 1, "snapshot_cause": 0,
         "snapshot_payload_type": _DEBT_CREDIT_STATUS,
         "snapshot_sub_payload": {"accumulated_debt": 0, "type_1_debt_remaining": 0,
                                  "type_2_debt_remaining": 0, "type_3_debt_remaining": 0,
                                  "emergency_credit_remaining": 0, "credit_remaining": 0}})]}


def _join_details(success: bool) -> dict[str, Any]:
    """CS07: ReadDeviceJoinDetailsResponse {responseCode, deviceLogEntries} (entries by
    `PAYLOAD_VALUES`)."""
    response = {"@type": "INTEGER", "name": "responseCode", "value": 0 if success else _REFUSED}
    entries = {"@type": "SEQUENCE", "name": "deviceLogEntries", "elements": []}
    return {"@type": "SEQUENCE", "name": "ReadDeviceJoinDetailsResponse",
            "elements": [response, entries] if success else [response]}


def _debt_log() -> dict[str, Any]:
    """GCS15d: Publish Debt Log with no records (the emulated GSME keeps no collection log)."""
    return {"@type": "gbz-payload", "components": [_component(
        _PREPAYMENT, _PUBLISH_DEBT_LOG, "prepayment/publish-debt-log",
        {"command_index": 0, "total_number_of_commands": 1, "debt_payload": []})]}


def response_form(use_case: str, command_view: Any, *, success: bool,
                  critical: bool) -> ResponseForm | None:
    """The Response of a command of `core.transform.authored.more` (module docstring); None
    for any other use case."""
    if not isinstance(command_view, dict):
        return None
    if use_case in LOG_READS and command_view.get("@type") == "access-request":
        payload = _log_response(command_view, success)
    elif use_case == "CS07" and command_view.get("name") == "ReadDeviceJoinDetailsCommand":
        payload = _join_details(success)
    elif use_case in ("CS11", "GCS16b", "GCS15d") and command_view.get("@type") == "gbz-payload":
        if not success:
            payload = default_responses(command_view, _ZCL_FAILURE)
        else:
            payload = _cleared(command_view) if use_case == "CS11" else \
                _prepay_snapshot() if use_case == "GCS16b" else _debt_log()
    else:
        return None
    return ResponseForm(use_case, shape_key(command_view), success, critical, False, payload)


# --- values of the GSME's Responses ---------------------------------------------------------------

def _snapshot(ctx: FillContext, view: Any) -> Any:
    """GCS16b: the GSME's balance, emergency credit and debts now, in ZSE money units."""
    meter: Any = ctx.device
    read = getattr(meter, "read_prepayment_registers", None)
    if read is None:
        return view
    registers = read(ctx.now).value
    debt = registers.debt
    fields = view["components"][0]["zcl_frame"]["payload"]["fields"]
    fields["snapshot_time"] = int((ctx.now - _EPOCH_2000).total_seconds())
    sub = fields["snapshot_sub_payload"]
    sub.update({"accumulated_debt": 0,
                "type_1_debt_remaining": debt.time_debt_1 * _MONEY_SCALE,
                "type_2_debt_remaining": debt.time_debt_2 * _MONEY_SCALE,
                "type_3_debt_remaining": debt.payment_debt * _MONEY_SCALE,
                "credit_remaining": registers.balance * _MONEY_SCALE})
    return view


def _joined(ctx: FillContext, view: Any) -> Any:
    """CS07: each device joined to this one (its HAN log), with its GBCS device type."""
    read = getattr(ctx.device, "read_device_join_details", None)
    if read is None:
        return view
    entries = []
    for device_id in read(ctx.now).value:
        other = ctx.lookup(device_id) if ctx.lookup is not None else None
        kind = GBCS_DEVICE_TYPES.get(other.kind, _TYPE_2) if other is not None else _TYPE_2
        entries.append({"@type": "SEQUENCE", "name": "deviceLogEntry", "elements": [
            {"@type": "OCTET STRING", "name": "deviceID", "value": device_id.replace("-", "").lower()},
            {"@type": "INTEGER", "name": "deviceType", "value": kind}]})
    for element in view.get("elements", []):
        if element.get("name") == "deviceLogEntries":
            element["elements"] = entries
    return view


PAYLOAD_VALUES: dict[str, Callable[[FillContext, Any], Any]] = {
    "GCS16b": _snapshot,
    "CS07": _joined,
}
