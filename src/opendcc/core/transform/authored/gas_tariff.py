"""Authored command forms for GCS01a Update Import Tariff (Primary Element) on a GSME (SRV
1.1.1), which has no RTDS vector.

GBCS GCS01a sends the whole gas tariff as one GBZ payload (GBCS §7.5) of ZSE 1.4 Calendar and
Price cluster commands: Publish Calendar, one Publish Day Profile per DUIS DayProfile, one
Publish Week Profile per WeekProfile, Publish Seasons (one entry per Season), Publish Special
Days (one entry per SpecialDay), then the prices as the learned GCS01b (Update Price on the
GSME) sends them: Publish Tariff Information and Publish Price Matrix, and for a block tariff
Publish Block Thresholds. The day and week profile commands are spliced into the component
list from the request (`content.SPLICE`), so that a request of any shape gets one command per
profile; the fixed components after them are bound by negative index.

Taken at run time from the learned GCS01b forms (nothing of its vector is written here): the
Price cluster components (frame control, currency, trailing digit, charging scheme, block
threshold multiplier and divisor) of the GCS01b form learned with TOU prices (for TOU
requests) or block prices (for block requests), and the tier numbering of its price matrix.
Without both learned GCS01b shapes the forms are left out and GCS01a stays not tabulated.

GUESSES (GBCS's GCS01a table was not at hand): the order of the components; calendar type 0
(delivered) and time reference 0; the issuer calendar id is the issuer event id (the time of
issue, as learned forms carry issuer event ids); one schedule entry per day profile from
midnight with the TOU rate of TOUTariffAction (block day profiles: tier 1); DUIS
ReferencedDayName index 1 is Monday; season and special-day dates keep "not specified"
(0xFF) for a NonSpecified year or day of week; block thresholds go as DUIS gives them, for
tier 0 with NumberOfThresholds as the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opendcc.core.transform.content import SPLICE, items_of
from opendcc.core.transform.fields import join_step
from opendcc.gbcs.payload.zcl_clusters import CALENDAR, PRICE

#: ZCL frame control: cluster-specific, server -> client, default response disabled (as the
#: learned GCS01b components carry it).
_FRAME_CONTROL = 0x09
_TARIFF = "GasTariffElements"
_SWITCHING = f"{_TARIFF}/SwitchingTable"
DAY = f"{_SWITCHING}/DayProfiles/DayProfile"
WEEK = f"{_SWITCHING}/WeekProfiles/WeekProfile"
SEASON = f"{_SWITCHING}/Seasons/Season"
SPECIAL_DAY = f"{_TARIFF}/SpecialDays/SpecialDay"
THRESHOLD = f"{_TARIFF}/ThresholdMatrix/BlockThreshold"
_PRICES = "PriceElements/GasPriceElements"
TOU_PRICE = f"{_PRICES}/TOUTariff/TOUPrice"
BLOCK_PRICE = f"{_PRICES}/BlockTariff/BlockPrice"
NUMBER_OF_THRESHOLDS = f"{_PRICES}/BlockTariff/NumberOfThresholds"
#: Derived sources (`derived_sources`): the number of items of a repeated element, and the
#: time of issue under each item (repeat bindings read their sources below the item).
COUNT, ITEM_NOW = "@count:", "@now"
_REPEATED = (DAY, WEEK, SEASON, SPECIAL_DAY)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: A ZCL Date with every part "not specified" (SE 1.4 / ZCL: 0xFF).
_ANY_DATE = "ffffffff"


def derived_sources(sources: dict[str, str]) -> dict[str, str]:
    """For a GCS01a request: the counts of its day profiles, week profiles, seasons and
    special days, and the time of issue under each of their items."""
    if f"{DAY}/DayName" not in sources:
        return {}
    out: dict[str, str] = {}
    now = sources.get("@now")
    for over in _REPEATED:
        numbers = items_of(over, sources)
        out[f"{COUNT}{over}"] = str(len(numbers))
        if now is not None:
            for n in numbers:
                parent, _, name = over.rpartition("/")
                out[f"{parent}/{join_step(name, n)}/{ITEM_NOW}"] = now
    return out


def _component(cluster: int, command_id: int, command: str, fields: dict[str, Any], *,
               last: bool = False) -> dict[str, Any]:
    return {"@type": "gbz-component", "extended_header_control_field": 1 if last else 0,
            "extended_header_cluster_id": cluster,
            "zcl_frame": {"@type": "zcl-frame", "frame_control": _FRAME_CONTROL,
                          "transaction_sequence_number": 0, "command_identifier": command_id,
                          "payload": {"@type": "cluster-command", "command": command,
                                      "fields": fields}}}


_F = ("zcl_frame", "payload", "fields")


def _issuer(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    return {"provider_id": 0, **dict.fromkeys(names, 0), **fields}


def _date_bindings(at: tuple[Any, ...], date: str) -> list[list[Any]]:
    return [[list(at), f"{date}/GasYearWithWildcards/SpecifiedYear", "zcl-date-year"],
            [list(at), f"{date}/GasMonthWithWildcards/SpecifiedMonth", "zcl-date-month"],
            [list(at), f"{date}/GasDayOfMonthWithWildcards/SpecifiedDayOfMonth",
             "zcl-date-day"]]


def _calendar_components(tou: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The Calendar cluster components (day and week profiles as splice placeholders at 1 and
    2) and their repeat groups."""
    ids = ("issuer_event_id", "issuer_calendar_id")
    calendar = _component(CALENDAR, 0x00, "calendar/publish-calendar", _issuer(
        {"start_time": 0, "calendar_type": 0, "calendar_time_reference": 0,
         "calendar_name": "", "number_of_seasons": 0, "number_of_week_profiles": 0,
         "number_of_day_profiles": 0}, *ids))
    day = _component(CALENDAR, 0x01, "calendar/publish-day-profile", _issuer(
        {"day_id": 1, "total_number_of_schedule_entries": 1, "command_index": 0,
         "total_number_of_commands": 1, "calendar_type": 0,
         "day_schedule_entries": [{"start_time": 0, "price_tier": 1}]}, *ids))
    week = _component(CALENDAR, 0x02, "calendar/publish-week-profile", _issuer(
        {"week_id": 1, **{f"day_id_ref_{d}": 1 for d in _WEEKDAYS}}, *ids))
    seasons = _component(CALENDAR, 0x03, "calendar/publish-seasons", _issuer(
        {"command_index": 0, "total_number_of_commands": 1, "season_entries": []}, *ids))
    special = _component(CALENDAR, 0x04, "calendar/publish-special-days", _issuer(
        {"start_time": 0, "calendar_type": 0, "total_number_of_special_days": 0,
         "command_index": 0, "total_number_of_commands": 1, "special_day_entries": []},
        *ids))
    item_ids: list[list[Any]] = [[[*_F, name], ITEM_NOW, "zcl-utc"] for name in ids]
    day_bind: list[list[Any]] = [[[*_F, "day_id"], "DayName", "int"], *item_ids]
    if tou:
        day_bind.append([[*_F, "day_schedule_entries", 0, "price_tier"], "TOUTariffAction", "int"])
    week_bind = [[[*_F, "week_id"], "WeekName", "int"], *item_ids,
                 *[[[*_F, f"day_id_ref_{d}"],
                    "ReferencedDayName" if i == 0 else f"ReferencedDayName[{i + 1}]", "int"]
                   for i, d in enumerate(_WEEKDAYS)]]
    repeats = [
        # spliced last first, so that the placeholder at 1 is still at 1
        {"at": ["components", 2, SPLICE], "over": WEEK, "element": week, "bind": week_bind},
        {"at": ["components", 1, SPLICE], "over": DAY, "element": day, "bind": day_bind},
    ]
    return [calendar, day, week, seasons, special], repeats


def _learned_prices(learned: Sequence[dict[str, Any]], price_path: str) -> dict[str, Any] | None:
    for form in learned:
        if (form.get("use_case") == "GCS01b" and form.get("dating") != "cancel"
                and any(str(p).startswith(price_path) for p in form.get("paths", ()))):
            return form
    return None


def _form(sibling: dict[str, Any], tou: bool, future: bool) -> dict[str, Any] | None:
    components = sibling["payload"].get("components", [])
    commands = [c.get("zcl_frame", {}).get("payload", {}).get("command") for c in components]
    if commands[:2] != ["price/publish-tariff-information", "price/publish-price-matrix"]:
        return None
    info, matrix = (dict(c) for c in components[:2])
    info = {**info, "extended_header_control_field": 0}
    matrix_fields = dict(matrix["zcl_frame"]["payload"]["fields"])
    entries = matrix_fields.get("price_matrix_sub_payload") or [{"tier_block_id": 0, "price": 0}]
    first_tier = int(entries[0].get("tier_block_id", 0))  # the sibling's tier numbering
    matrix_fields["price_matrix_sub_payload"] = []
    matrix = {**matrix, "extended_header_control_field": 0 if not tou else 1,
              "zcl_frame": {**matrix["zcl_frame"], "payload": {
                  **matrix["zcl_frame"]["payload"], "fields": matrix_fields}}}
    calendar_parts, repeats = _calendar_components(tou)
    price_parts = [info, matrix]
    if not tou:
        info_fields = info["zcl_frame"]["payload"]["fields"]
        price_parts.append(_component(PRICE, 0x06, "price/publish-block-thresholds", {
            "provider_id": 0, "issuer_event_id": 0, "start_time": 0,
            "issuer_tariff_id": info_fields.get("issuer_tariff_id", 0), "command_index": 0,
            "number_of_commands": 1, "sub_payload_control": 0,
            "tier_number_of_block_thresholds": 0, "block_thresholds": []}, last=True))
    components = [*calendar_parts, *price_parts]
    n_price = len(price_parts)
    seasons, special, info_at, matrix_at = -n_price - 2, -n_price - 1, -n_price, -n_price + 1

    def at(index: int, *rest: Any) -> list[Any]:
        return ["components", index, *_F, *rest]

    prices = TOU_PRICE if tou else BLOCK_PRICE
    repeats += [
        {"at": at(seasons, "season_entries"), "over": SEASON,
         "element": {"season_start_date": _ANY_DATE, "week_id_ref": 1},
         "bind": [*_date_bindings(("season_start_date",), "SeasonStartDate"),
                  [["week_id_ref"], "ReferencedWeekName", "int"]]},
        {"at": at(special, "special_day_entries"), "over": SPECIAL_DAY,
         "element": {"special_day_date": _ANY_DATE, "day_id_ref": 1},
         "bind": [*_date_bindings(("special_day_date",), "Date"),
                  [["day_id_ref"], "ReferencedDayName", "int"]]},
        {"at": at(matrix_at, "price_matrix_sub_payload"), "over": prices,
         "element": {"tier_block_id": first_tier, "price": 0},
         "bind": [[["tier_block_id"], "@item" if first_tier else "@position", "int"],
                  [["price"], "", "int"]]},
    ]
    if not tou:
        repeats.append({"at": at(-1, "block_thresholds"), "over": THRESHOLD,
                        "element": {"block_threshold": 0},
                        "bind": [[["block_threshold"], "", "int"]]})
    bind: list[list[Any]] = [
        [at(0, "number_of_day_profiles"), f"{COUNT}{DAY}", "int"],
        [at(0, "number_of_week_profiles"), f"{COUNT}{WEEK}", "int"],
        [at(0, "number_of_seasons"), f"{COUNT}{SEASON}", "int"],
        [at(special, "total_number_of_special_days"), f"{COUNT}{SPECIAL_DAY}", "int"],
        [at(info_at, "standing_charge"), f"{_PRICES}/StandingCharge", "int"],
    ]
    for index in (0, seasons, special):
        bind += [[at(index, "issuer_event_id"), "@now", "zcl-utc"],
                 [at(index, "issuer_calendar_id"), "@now", "zcl-utc"]]
    price_indexes = [info_at, matrix_at] + ([] if tou else [-1])
    bind += [[at(i, "issuer_event_id"), "@now", "zcl-utc"] for i in price_indexes]
    starts = [0, special, *price_indexes]
    for i in starts:  # immediate: start at once (0), as the learned immediate GCS01b
        components[i]["zcl_frame"]["payload"]["fields"]["start_time"] = 0
    if future:
        bind += [[at(i, "start_time"), "ExecutionDateTime", "zcl-utc"] for i in starts]
    if not tou:
        bind.append([at(info_at, "number_of_block_thresholds_in_use"), NUMBER_OF_THRESHOLDS,
                     "int"])
        bind.append([at(-1, "tier_number_of_block_thresholds"), NUMBER_OF_THRESHOLDS, "int"])
    paths = [f"{DAY}/DayName", f"{WEEK}/WeekName", f"{_PRICES}/StandingCharge", prices,
             f"{_PRICES}/CurrencyUnits"]
    if future:
        paths.append("ExecutionDateTime")
    if not tou:
        paths += [THRESHOLD, NUMBER_OF_THRESHOLDS]
    kind, dating = ("TOU" if tou else "BLOCK"), ("future" if future else "immediate")
    return {
        "name": f"GCS01a 1.1.1 {dating.upper()} {kind} AUTHORED", "use_case": "GCS01a",
        "srv": "1.1.1", "message_code": "006B", "devices": ["GSME"], "dating": dating,
        "exact": True, "learned": True, "paths": paths, "roles": [2],
        "when": sibling.get("when", {}),
        "payload": {"@type": "gbz-payload", "components": _copy(components)},
        "bind": bind, "repeat": repeats,
    }


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def forms(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The GCS01a forms (TOU and block, immediate and future-dated), built from the learned
    GCS01b forms; none without them."""
    out = []
    for tou, path in ((True, TOU_PRICE), (False, BLOCK_PRICE)):
        sibling = _learned_prices(learned, path)
        if sibling is None:
            continue
        for future in (False, True):
            form = _form(_copy(sibling), tou, future)
            if form is not None:
                out.append(form)
    return out
