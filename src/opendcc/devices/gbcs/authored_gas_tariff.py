"""GCS01a Update Import Tariff on the GSME, which has no RTDS vector: the tariff read from the
GBZ Calendar and Price commands the DCC's authored form sends (`core.transform.authored.
gas_tariff`), and the Response to it. Merged into the general tables by one-line hooks:

- `ARGUMENTS` (into `arguments.arguments`): the `Tariff` for `update_tariff`. Prices from the
  Publish Price Matrix (TOU tiers when its sub-payload control says so, else block prices),
  block thresholds from Publish Block Thresholds scaled by the Publish Tariff Information's
  multiplier and divisor (kWh, as Wh), the standing charge from Publish Tariff Information.
  The device model keeps one daily switching table: the day profile in force on the day the
  tariff arrives (special day, else the season's week profile for that weekday), one TOU rate
  per schedule entry. The calendar itself (other days, seasons) is not kept: a later tariff
  read reports the prices, thresholds, standing charge and that day's switching.
- `response_form` (into `forms.form_for`): a ZCL Default Response per component, in the frame
  control, status and dating of the learned GCS01b (Update Price on the GSME) Response with the
  same outcome, else GBCS's plain Default Response.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from opendcc.devices.errors import InvalidArgument
from opendcc.devices.gbcs.arguments import CommandContext, zcl_fields
from opendcc.devices.gbcs.authored_gas_hub import default_responses
from opendcc.devices.gbcs.templates import ResponseForm, shape_key
from opendcc.devices.tariff import Tariff

#: Publish Price Matrix sub-payload control bit 0: the entries are TOU tiers (SE 1.4 D.4.2.4.6).
_TOU_ENTRIES = 0x01
#: ZCL Default Response (general command 0x0B) and its status codes.
_SUCCESS, _FAILURE = 0x00, 0x01  # ZCL status codes
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNSPECIFIED = 0xFF


def _all_fields(view: Any, command: str) -> list[dict[str, Any]]:
    out = []
    for component in view.get("components", []) if isinstance(view, dict) else []:
        payload = component.get("zcl_frame", {}).get("payload", {})
        if payload.get("@type") == "cluster-command" and payload.get("command") == command:
            out.append(dict(payload.get("fields", {})))
    return out


def _date_matches(hex_date: Any, day: datetime) -> bool:
    """A ZCL Date (year - 1900, month, day, day of week; 0xFF not specified) covers `day`."""
    raw = bytes.fromhex(hex_date) if isinstance(hex_date, str) else b""
    if len(raw) != 4:
        return False
    wanted = (day.year - 1900, day.month, day.day, day.isoweekday())
    return all(part in (_UNSPECIFIED, want) for part, want in zip(raw, wanted, strict=True))


def _month_day(hex_date: Any) -> tuple[int, int]:
    raw = bytes.fromhex(hex_date) if isinstance(hex_date, str) else b"\xff" * 4
    return raw[1], raw[2]


def _day_profile_today(view: Any, day: datetime) -> dict[str, Any] | None:
    """The Publish Day Profile in force on `day`: a special day's, else the week profile of
    the latest season started by `day` (seasons recur yearly; before the first, the last)."""
    days = {f.get("day_id"): f for f in _all_fields(view, "calendar/publish-day-profile")}
    for special in _all_fields(view, "calendar/publish-special-days"):
        for entry in special.get("special_day_entries", []):
            if _date_matches(entry.get("special_day_date"), day):
                return days.get(entry.get("day_id_ref"))
    weeks = {f.get("week_id"): f for f in _all_fields(view, "calendar/publish-week-profile")}
    entries = [e for s in _all_fields(view, "calendar/publish-seasons")
               for e in s.get("season_entries", [])]
    entries.sort(key=lambda e: _month_day(e.get("season_start_date")))
    season = None
    for entry in entries:
        if _month_day(entry.get("season_start_date")) <= (day.month, day.day):
            season = entry
    if season is None and entries:
        season = entries[-1]
    week = weeks.get(season.get("week_id_ref")) if season else None
    if week is None and len(weeks) == 1:
        week = next(iter(weeks.values()))
    if week is None:
        return next(iter(days.values()), None) if len(days) == 1 else None
    return days.get(week.get(f"day_id_ref_{_WEEKDAYS[day.weekday()]}"))


def _tariff(ctx: CommandContext) -> dict[str, Any]:
    """GCS01a: the whole tariff (see the module docstring)."""
    info = zcl_fields(ctx.view, "price/publish-tariff-information")
    matrix = zcl_fields(ctx.view, "price/publish-price-matrix")
    if not info or not matrix:
        raise InvalidArgument("a tariff needs Publish Tariff Information and Publish Price Matrix")
    prices = [int(e.get("price", 0)) for e in matrix.get("price_matrix_sub_payload", [])]
    if not prices:
        raise InvalidArgument("the price matrix has no prices")
    standing = int(info.get("standing_charge", 0))
    if int(matrix.get("sub_payload_control", 0)) & _TOU_ENTRIES:
        profile = _day_profile_today(ctx.view, ctx.now.astimezone(UTC))
        entries = profile.get("day_schedule_entries", []) if profile else []
        switching = tuple((int(e.get("start_time", 0)), int(e.get("price_tier", 1)) - 1)
                          for e in entries) or ((0, 0),)
        return {"tariff": Tariff(tou_prices=tuple(prices), switching=switching,
                                 standing_charge=standing)}
    block = zcl_fields(ctx.view, "price/publish-block-thresholds")
    multiplier = int(info.get("block_threshold_multiplier", 1)) or 1
    divisor = int(info.get("block_threshold_divisor", 1)) or 1
    thresholds = tuple(int(t.get("block_threshold", 0)) * multiplier * 1000 // divisor
                       for t in block.get("block_thresholds", []))
    return {"tariff": Tariff(tou_prices=(prices[0],), block_thresholds=thresholds,
                             block_prices=tuple(prices), standing_charge=standing)}


ARGUMENTS: dict[str, Callable[[CommandContext], dict[str, Any]]] = {"GCS01a": _tariff}


def _sibling(success: bool) -> ResponseForm | None:
    from opendcc.devices.gbcs.forms import forms  # forms.py hooks this module in

    rows = [r for r in forms().get("GCS01b", ()) if r.success == success]
    return rows[0] if rows else None


def response_form(use_case: str, command_view: Any, *, success: bool,
                  critical: bool) -> ResponseForm | None:
    """GCS01a's Response: a Default Response per command component (see the module
    docstring); None for any other use case."""
    if use_case != "GCS01a" or not isinstance(command_view, dict):
        return None
    sibling = _sibling(success)
    frame_control, status, dated = 0x08, _SUCCESS if success else _FAILURE, True
    if sibling is not None:
        first = sibling.payload.get("components", [{}])[0].get("zcl_frame", {})
        frame_control = first.get("frame_control", frame_control)
        status = first.get("payload", {}).get("status_code", status)
        dated = sibling.dated
    return ResponseForm(use_case, shape_key(command_view), success, critical, dated,
                        default_responses(command_view, status, frame_control=frame_control,
                                          header_control=0))

