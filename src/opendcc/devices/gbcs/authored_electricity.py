"""ESME use cases that have no RTDS vector: their arguments, reads and Response structures
written from GBCS, as the DCC's authored command forms (`core.transform.authored.electricity`)
send them.

Three tables, each merged into the general one by a one-line hook:

- `ARGUMENTS` (into `arguments.arguments`): the device method's arguments read from the
  command: ECS37 maximum demand period, ECS57 registers to reset, ECS39b export MPAN, ECS48
  daily block counter reset, ECS29a-d (single and polyphase) voltage configuration.
- `DLMS_VALUES` (into `values.DLMS_VALUES`): what the ESME reports for a COSEM attribute it
  knows by OBIS: active power import (ECS17c, Blue Book), the randomised offset limit
  (ECS26c); `use_case_value` (hooked in `values`) for reads it knows by rule, structure or
  place: ECS22a's export profile, ECS27's load limit items and counter, and the maximum
  demand registers ECS18a/b read (Blue Book rule).
- `READ_TYPES` (through `response_form`, into `forms.form_for`): the data type GBCS gives
  each of those attributes, so a read of them gets its access-response without a vector:
  one data node per get, result success, values filled by `values.fill`.

The COSEM objects are the ones the authored command forms name; docs/transform.md
("Authored forms") says which are confirmed from GBCS and which follow a sibling use case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from opendcc.devices.errors import InvalidArgument
from opendcc.devices.gbcs.arguments import (
    CommandContext,
    dlms_items,
    dlms_value,
    scalar,
)
from opendcc.devices.gbcs.templates import ResponseForm, shape_key
from opendcc.ids import MPxN

if TYPE_CHECKING:
    from opendcc.devices.gbcs.values import FillContext

# --- COSEM objects (GBCS; see the command forms for which are confirmed) -----------------------

# Objects the DCC's forms take from a learned sibling (the RTDS vectors) are not named here:
# the ESME knows them by Blue Book rule, by structure or by their place in the command.

#: Blue Book: sum of all phases, active power import, instantaneous value.
ACTIVE_POWER_IMPORT = "1-0:1.7.0.255"
#: Not confirmed from GBCS here (as the command forms say).
RANDOMISED_OFFSET_LIMIT = "0-0:94.44.0.8"
DAILY_BLOCK_COUNTER_RESET = "0-0:94.44.0.17"
#: ECS27 reads the load limiting items (GBCS class 9000) in the order ECS28a sets them.
LOAD_LIMIT_ITEMS = ("disable", "threshold", "period", "restoration")
#: The RMS voltage Limiters (class 71) an ECS29 command sets, in order: what each watches
#: (the order DUIS lists them, as the command form takes them; a GUESS of that form).
VOLTAGE_LIMITERS = ("RMSExtremeOverVoltage", "RMSExtremeUnderVoltage", "RMSVoltageSag",
                    "RMSVoltageSwell")
#: OBIS group C of each phase's voltage objects (Blue Book: voltage L1, L2, L3).
PHASE_GROUPS = {32: 1, 52: 2, 72: 3}

#: COSEM units (Blue Book): W.
UNIT_W = 27
#: Seconds from the UNIX epoch to 2000-01-01, the epoch of GBCS UTC double-long-unsigned times.
_EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)
#: Log reads run over the day before the command time, as `arguments.LOG_WINDOW`.
_LOG_WINDOW = timedelta(days=1)
#: Element of a Schedule (class 10) entry holding its switch_time.
_SWITCH_TIME = 4


# --- arguments ---------------------------------------------------------------------------------

def _cosem_time(node: Any) -> time:
    raw = bytes.fromhex(str(scalar(node)))
    if len(raw) != 4 or raw[0] > 23 or raw[1] > 59 or raw[2] > 59:
        raise InvalidArgument(f"{raw.hex()} is not a COSEM time of day")
    return time(raw[0], raw[1], raw[2])


def _sets(ctx: CommandContext, class_id: int, attribute: int) -> list[tuple[str, Any]]:
    """(OBIS, data) of each set of that class and attribute the command carries."""
    specs = ctx.view.get("access_request_list_of_specification", []) \
        if isinstance(ctx.view, dict) else []
    return [(o, node) for spec, (c, o, m, node) in zip(specs, dlms_items(ctx.view), strict=False)
            if spec.get("@type") == "access-request-set" and (c, m) == (class_id, attribute)]


def _max_demand_period(ctx: CommandContext) -> dict[str, Any]:
    """ECS37: the Schedule (class 10) entries the command sets: switch_time of the first
    starts the period, of the second ends it (the Schedule found by class: ECS37 sets one)."""
    node = next((n for _, n in _sets(ctx, 10, 2)), None)
    entries = node.get("elements", []) if isinstance(node, dict) else []
    if len(entries) != 2:
        raise InvalidArgument("the maximum demand schedule needs a start and an end entry")
    start, end = (_cosem_time(e["elements"][_SWITCH_TIME]) for e in entries)
    return {"start": start, "end": end}


def _max_demand_register(obis: str) -> str | None:
    """The ESME maximum demand register (`esme.MaxDemand`) an Extended Register is, by Blue
    Book rule: value group D 6 (maximum demand), C its quantity (1 import, 2 export) and E
    its period (0 the whole, another the configurable one)."""
    parts = obis.replace("-", ".").replace(":", ".").split(".")
    if len(parts) != 6 or not all(p.isdigit() for p in parts) or parts[3] != "6":
        return None
    quantity, period = int(parts[2]), int(parts[4])
    return {1: "import_w" if period == 0 else "period_import_w", 2: "export_w"}.get(quantity)


def _max_demand_reset(ctx: CommandContext) -> dict[str, Any]:
    """ECS57: Extended Register (class 4) method 1 (reset) on each register to zero."""
    registers = frozenset(name for class_id, obis, method, _ in dlms_items(ctx.view)
                          if (class_id, method) == (4, 1)
                          and (name := _max_demand_register(obis)) is not None)
    return {"registers": registers}


def _export_mpan(ctx: CommandContext) -> dict[str, Any]:
    """ECS39b: the export MPAN, UTF-8 digits: the octet-string set of a Data object (class 1)
    the command carries (by structure: the export MPAN's object is not confirmed from GBCS
    here, see the command form)."""
    node = next((n for _, n in _sets(ctx, 1, 2) if n.get("@type") == "octet-string"), None)
    if node is None:
        raise InvalidArgument("the command does not set the export MPAN")
    try:
        return {"mpan": MPxN.parse(bytes.fromhex(str(scalar(node))).decode("utf-8"))}
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"not an MPAN: {exc}") from None


def _daily_block_reset(ctx: CommandContext) -> dict[str, Any]:
    """ECS48: a boolean, non-zero for on (the set of a boolean, whatever its object)."""
    node = dlms_value(ctx.view, 1, DAILY_BLOCK_COUNTER_RESET, 2)
    if node is None:
        node = next((n for _, _, _, n in dlms_items(ctx.view)
                     if isinstance(n, dict) and n.get("@type") == "boolean"), None)
    if node is None:
        raise InvalidArgument("the command does not set the daily block counter reset")
    return {"on": bool(scalar(node))}


def _voltage_configuration(ctx: CommandContext) -> dict[str, Any]:
    """ECS29a-d: each setting the command carries, by its DUIS name (phase 2 and 3 settings
    suffixed `@2`, `@3`): Limiter thresholds (attribute 4) and durations (6), each phase's
    averaging period (profile capture period) and average RMS over / under thresholds.
    Objects the device does not know are taken without effect."""
    out: dict[str, int] = {}
    limiters: list[str] = []
    for class_id, obis, _m, _n in dlms_items(ctx.view):
        if class_id == 71 and obis not in limiters:
            limiters.append(obis)
    for class_id, obis, member, node in dlms_items(ctx.view):
        name = _voltage_setting(class_id, obis, member, limiters)
        if name is not None:
            out[name] = int(scalar(node))
    return {"settings": tuple(sorted(out.items()))}


def _voltage_setting(class_id: int, obis: str, member: int, limiters: list[str]) -> str | None:
    if class_id == 71 and member in (4, 6) and limiters.index(obis) < len(VOLTAGE_LIMITERS):
        return (VOLTAGE_LIMITERS[limiters.index(obis)]
                + ("Threshold" if member == 4 else "MeasurementPeriod"))
    group = obis[4:6] if obis.startswith("1-0:") else ""
    phase = PHASE_GROUPS.get(int(group)) if group.isdigit() else None
    if phase is None:
        return None
    suffix = "" if phase == 1 else f"@{phase}"
    names = {(7, f"1-0:{group}.24.0.255", 4): "AverageRMSVoltageMeasurementPeriod",
             (1, f"1-0:{group}.35.0.4", 2): "AverageRMSOverVoltageThreshold",
             (1, f"1-0:{group}.31.0.4", 2): "AverageRMSUnderVoltageThreshold"}
    name = names.get((class_id, obis, member))
    return None if name is None else name + suffix


#: GBCS use case -> reader of its ESME method's arguments.
ARGUMENTS: dict[str, Callable[[CommandContext], dict[str, Any]]] = {
    "ECS37": _max_demand_period,
    "ECS57": _max_demand_reset,
    "ECS39b": _export_mpan,
    "ECS48": _daily_block_reset,
    "ECS29a": _voltage_configuration,
    "ECS29b": _voltage_configuration,
    "ECS29c": _voltage_configuration,
    "ECS29d": _voltage_configuration,
}


# --- values ------------------------------------------------------------------------------------

def _with(node: Any, value: Any) -> Any:
    out = dict(node)
    out["value"] = value
    return out


def _esme(ctx: FillContext) -> Any:
    return ctx.device


def _power(ctx: FillContext, node: Any) -> Any:
    return _with(node, _esme(ctx).read_instantaneous_power(ctx.now).value)


def _load_limit(field: str) -> Callable[[FillContext, Any], Any]:
    """ECS27: the active load limit configuration (0 / false when none is set)."""
    def fill(ctx: FillContext, node: Any) -> Any:
        config = _esme(ctx).read_load_limit_data(ctx.now).value.config
        if config is None:
            return node
        value = {"threshold": config.threshold_w, "disable": 0xFF if config.disable_supply else 0,
                 "restoration": int(config.restoration_period.total_seconds()),
                 "period": 1800}[field]
        return _with(node, value)
    return fill


def _load_limit_counter(ctx: FillContext, node: Any) -> Any:
    return _with(node, _esme(ctx).read_load_limit_data(ctx.now).value.counter)


def _export_profile(ctx: FillContext, node: Any) -> Any:
    """ECS22a: the completed half-hours of export in the day before the read, each as
    {UTC time (s since 2000), export Wh}, the columns ECS22c reports for reactive import."""
    start = ctx.now - _LOG_WINDOW
    rows = _esme(ctx).read_export_half_hour_profile(start, ctx.now, ctx.now).value
    column = {"@type": "simple-type", "type_tag": 6}
    return {"@type": "compact-array",
            "contents_description": {"@type": "structure-type", "elements": [column, column]},
            "contents": [{"@type": "structure", "elements": [
                {"@type": "double-long-unsigned",
                 "value": int((row.start - _EPOCH_2000).total_seconds())},
                {"@type": "double-long-unsigned", "value": row.wh}]} for row in rows]}


def _randomisation(ctx: FillContext, node: Any) -> Any:
    return _with(node, _esme(ctx).read_randomisation(ctx.now).value)


def _max_demand(name: str) -> Callable[[FillContext, Any], Any]:
    def fill(ctx: FillContext, node: Any) -> Any:
        read = getattr(ctx.device, "read_max_demand", None)
        return node if read is None else _with(node, getattr(read(ctx.now).value, name))
    return fill


Getter = Callable[["FillContext", Any], Any]

#: (class_id, OBIS, attribute) of a DLMS get -> the ESME's value in the response.
DLMS_VALUES: dict[tuple[int, str, int], Getter] = {
    (3, ACTIVE_POWER_IMPORT, 2): _power,
    (1, RANDOMISED_OFFSET_LIMIT, 2): _randomisation,
}


def _position(command: Any, class_id: int, obis: str, attribute: int) -> int:
    """The place of a get among the command's gets of the same class (0-based; -1 if none)."""
    same = [o for c, o, m, _ in dlms_items(command) if (c, m) == (class_id, attribute)]
    return same.index(obis) if obis in same else -1


def _read_kind(use_case: str, command: Any, class_id: int, obis: str, attribute: int) -> str | None:
    """What a read of the ESME is, for objects it knows by rule, structure or place rather
    than by OBIS: ECS22a's export profile, ECS27's load limit items (in ECS28a's order) and
    counter, and the maximum demand registers (Blue Book rule) any read names."""
    if use_case == "ECS22a" and (class_id, attribute) == (7, 2):
        return "export-profile"
    if use_case == "ECS27" and (class_id, attribute) == (9000, 2):
        place = _position(command, class_id, obis, attribute)
        return f"load-limit:{LOAD_LIMIT_ITEMS[place]}" if 0 <= place < len(LOAD_LIMIT_ITEMS) else None
    if use_case == "ECS27" and (class_id, attribute) == (3, 2):
        return "load-limit-counter"
    if (class_id, attribute) == (4, 2) and (name := _max_demand_register(obis)) is not None:
        return f"max-demand:{name}"
    return None


def use_case_value(ctx: FillContext, class_id: int, obis: str, attribute: int) -> Getter | None:
    """The getter of a read the ESME knows by rule, structure or place (`_read_kind`), else
    None (then `DLMS_VALUES` by OBIS)."""
    kind = _read_kind(ctx.use_case, ctx.command, class_id, obis, attribute)
    if kind is None:
        return None
    what, _, name = kind.partition(":")
    if what == "load-limit":
        return _load_limit(name)
    if what == "max-demand":
        return _max_demand(name)
    return _export_profile if what == "export-profile" else _load_limit_counter


# --- Response structures of reads --------------------------------------------------------------

def _typed(kind: str, value: Any = 0) -> dict[str, Any]:
    return {"@type": kind, "value": value}


#: (class_id, OBIS, attribute) -> the data GBCS answers a get of it with (neutral values).
READ_TYPES: dict[tuple[int, str, int], dict[str, Any]] = {
    (3, ACTIVE_POWER_IMPORT, 2): _typed("double-long"),
    (3, ACTIVE_POWER_IMPORT, 3): {"@type": "structure", "elements": [
        _typed("integer", 0), _typed("enum", UNIT_W)]},
    (1, RANDOMISED_OFFSET_LIMIT, 2): _typed("long-unsigned"),
}
#: `_read_kind` -> the data GBCS answers a get of it with.
KIND_READ_TYPES: dict[str, dict[str, Any]] = {
    "export-profile": {"@type": "array", "elements": []},
    "load-limit:disable": _typed("boolean"),
    **{f"load-limit:{item}": _typed("double-long-unsigned") for item in LOAD_LIMIT_ITEMS[1:]},
    "load-limit-counter": _typed("long-unsigned"),
}


def response_form(use_case: str, command_view: Any, *, critical: bool) -> ResponseForm | None:
    """The success Response of a DLMS command of gets whose every attribute is in
    `READ_TYPES`: an access-response with a data node and result 0 per get (GBCS §7, DLMS
    access-response); None for any other command."""
    if not isinstance(command_view, dict) or command_view.get("@type") != "access-request":
        return None
    data: list[dict[str, Any]] = []
    for spec in command_view.get("access_request_list_of_specification") or []:
        desc = spec.get("cosem_attribute_descriptor") or {}
        kind = spec.get("@type", "")
        class_id, obis, attribute = (desc.get("class_id", -1), desc.get("instance_id", ""),
                                     desc.get("attribute_id", -1))
        node = READ_TYPES.get((class_id, obis, attribute)) or KIND_READ_TYPES.get(
            _read_kind(use_case, command_view, class_id, obis, attribute) or "")
        if node is None or kind not in ("access-request-get", "access-request-get-with-selection"):
            return None
        data.append(dict(node))
    if not data:
        return None
    payload = {"@type": "access-response",
               "long_invoke_id_and_priority": command_view.get("long_invoke_id_and_priority", 0),
               "date_time": "", "access_request_specification": None,
               "access_response_list_of_data": data,
               "access_response_specification": [{"@type": "access-response-get", "result": 0}
                                                 for _ in data]}
    return ResponseForm(use_case, shape_key(command_view), True, critical, False, payload)
