"""Authored command forms for use cases of the ESME (electricity meter) that have no RTDS vector.

Each form is the DLMS COSEM access-request the GBCS use case describes: the COSEM objects
(class id, OBIS code, attribute or method) it reads, sets or invokes, the message code of the
GBCS use-case table (`opendcc.gbcs.message_codes`) and bindings from the DUIS body. Where the
GBCS text for a use case could not be confirmed here, the form takes the structure of the
closest sibling use case that RTDS does show (named on each form as `SIBLING`), and says so.
Objects a sibling names (OBIS codes, script identifiers, selective access) are taken from the
sibling's learned form at run time (`forms(learned)`), never written here: nothing read from
the RTDS vectors is part of the source, and a rule that goes beyond the sibling (the next
script, the next object) is marked GUESS. docs/transform.md ("Authored forms") lists each form
with its source.

Criticality is not part of a form: the Transform takes it from the use-case table (ECS44 and
ECS48 are critical, SME.C.C, and go out as Pre-Commands).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from itertools import combinations
from typing import Any

#: The invoke-id carries the Originator Counter (GBCS §7.2.7); every form binds it.
_INVOKE = [["long_invoke_id_and_priority"], "@counter", "invoke-id"]
_ESME = ["ESME"]
#: DLMS boolean true as GBCS commands carry it (RTDS: 0xFF), and xs:boolean to it.
_TRUE = 0xFF
_XS_BOOLEAN = "map:true=255,false=0,1=255,0=0"


# --- DLMS access-request building blocks (the payload codec's JSON view) --------------------

def _attribute(kind: str, class_id: int, obis: str, attribute: int) -> dict[str, Any]:
    return {"@type": f"access-request-{kind}",
            "cosem_attribute_descriptor": {"@type": "cosem-attribute-descriptor",
                                           "class_id": class_id, "instance_id": obis,
                                           "attribute_id": attribute}}


def _method(class_id: int, obis: str, method: int) -> dict[str, Any]:
    return {"@type": "access-request-action",
            "cosem_method_descriptor": {"@type": "cosem-method-descriptor",
                                        "class_id": class_id, "instance_id": obis,
                                        "method_id": method}}


def _get(class_id: int, obis: str, attribute: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return _attribute("get", class_id, obis, attribute), {"@type": "null-data"}


def _set(class_id: int, obis: str, attribute: int,
         data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return _attribute("set", class_id, obis, attribute), data


def _action(class_id: int, obis: str, method: int,
            data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return _method(class_id, obis, method), data


def _value(kind: str, value: Any) -> dict[str, Any]:
    return {"@type": kind, "value": value}


def _request(requests: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    return {"@type": "access-request", "long_invoke_id_and_priority": 0, "date_time": "",
            "access_request_list_of_specification": [spec for spec, _ in requests],
            "access_request_list_of_data": [data for _, data in requests]}


def _data_at(i: int, *rest: str | int) -> list[str | int]:
    """Payload path of the i-th request's data (its `value` unless `rest` says deeper)."""
    return ["access_request_list_of_data", i, *(rest or ("value",))]


def _form(name: str, use_case: str, srv: str, message_code: int,
          requests: list[tuple[dict[str, Any], dict[str, Any]]],
          bind: list[list[Any]] | None = None, *, paths: tuple[str, ...] = (),
          when: dict[str, str] | None = None) -> dict[str, Any]:
    """A form as raw table data (`tables._form`)."""
    return {"name": name, "use_case": use_case, "srv": srv, "message_code": f"{message_code:04X}",
            "devices": _ESME, "sender": None, "remote_party_counter": False,
            "remote_party_ka_certificate": None, "dating": "immediate", "exact": True,
            "learned": True, "when": when or {}, "paths": list(paths), "roles": [],
            "payload": _request(requests), "bind": [_INVOKE, *(bind or [])], "repeat": []}


# --- learned siblings ------------------------------------------------------------------------

def _siblings(learned: Sequence[dict[str, Any]], use_case: str) -> list[dict[str, Any]]:
    """The learned forms of `use_case` (empty when the reference folder has no vector of it)."""
    return [f for f in learned if f.get("use_case") == use_case
            and isinstance(f.get("payload"), dict) and f["payload"].get("@type") == "access-request"]


def _requests(form: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    payload = form["payload"]
    return list(zip(payload.get("access_request_list_of_specification") or [],
                    payload.get("access_request_list_of_data") or [], strict=False))


def _descriptor(spec: dict[str, Any]) -> tuple[int, str, int]:
    """(class id, OBIS, attribute or method) a request names."""
    d = spec.get("cosem_attribute_descriptor") or spec.get("cosem_method_descriptor") or {}
    return (int(d.get("class_id", -1)), str(d.get("instance_id", "")),
            int(d.get("attribute_id", d.get("method_id", -1))))


def _obis(obis: str, *, c: int | None = None, e: int | None = None,
          f: int | None = None) -> str:
    """`obis` with value groups C, E or F replaced."""
    head, rest = obis.split(":", 1)
    groups = rest.split(".")
    for i, v in ((0, c), (2, e), (3, f)):
        if v is not None:
            groups[i] = str(v)
    return f"{head}:{'.'.join(groups)}"


def _group(obis: str, index: int) -> int:
    """Value group C (0), D (1), E (2) or F (3) of `obis`."""
    return int(obis.split(":", 1)[1].split(".")[index])


# --- 1.6 Update Payment Mode to Credit (ECS02) ------------------------------------------------

#: Blue Book Account (class 111): attribute 2 account_mode_and_status {payment_mode,
#: account_status}, payment_mode 1 credit / 2 prepayment; attribute 13
#: account_activation_time (when a new mode takes effect: GBCS future dating).
_ACCOUNT, _MODE_AND_STATUS, _ACTIVATION_TIME = 111, 2, 13
_CREDIT_MODE = 1


def _payment_mode_credit(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS02 Set ESME Payment Mode to Credit (SRV 1.6 `Credit`, critical), one form per
    dating (immediate, future-dated, cancellation) of the learned ECS03 (to Prepayment), its
    sibling: the same Account object's account_mode_and_status with payment_mode credit, and
    its account_activation_time (all zero now, the execution time, all 0xFF cancel), taken
    at run time from ECS03's learned forms. ECS03's other requests are left out: the
    disablement threshold and the debt-collection choices of the credit charge configuration
    are what the `Prepayment` body carries, and a `Credit` body carries nothing. Unconfirmed
    from the GBCS text here: that ECS02 sets no other attribute."""
    out = []
    for sibling in _siblings(learned, "ECS03"):
        dating = sibling.get("dating", "immediate")
        kept: list[tuple[dict[str, Any], dict[str, Any]]] = []
        bind: list[list[Any]] = []
        for spec, data in _requests(sibling):
            class_id, _, attribute = _descriptor(spec)
            if spec.get("@type") != "access-request-set" or class_id != _ACCOUNT:
                continue
            data = copy.deepcopy(data)
            if attribute == _MODE_AND_STATUS and data.get("elements"):
                data["elements"][0] = _value("enum", _CREDIT_MODE)
            elif attribute == _ACTIVATION_TIME:
                if dating == "future":
                    bind.append([_data_at(len(kept)), "ExecutionDateTime", "cosem-datetime"])
            else:
                continue
            kept.append((copy.deepcopy(spec), data))
        if not any(_descriptor(spec)[2] == _MODE_AND_STATUS for spec, _ in kept):
            continue
        label = {"immediate": "IMMEDIATE", "future": "FUTURE_DATED", "cancel": "CANCELLATION"}
        form = _form(f"ECS02 1.6 AUTHORED {label.get(dating, dating.upper())}", "ECS02", "1.6",
                     0x001A, kept, bind,
                     paths=("Credit", *(() if dating == "immediate" else ("ExecutionDateTime",))))
        form.update(dating=dating, roles=list(sibling.get("roles", [])))
        out.append(form)
    return out


# --- 7.3 Arm Supply (ECS44) --------------------------------------------------------------------

#: Blue Book: the Script Table (class 9) runs a script by its identifier with method 1
#: (execute, long-unsigned). ECS42 (enable), ECS43 (disable) and ECS44 (arm) each run one
#: script of the ESME's Disconnect Control Script Table.
_SCRIPT_TABLE, _EXECUTE = 9, 1


def _arm_supply(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS44 runs its script in the Script Table ECS42 and ECS43 run theirs in, both taken
    at run time from their learned forms. GUESS: the identifier of the arm script is not
    confirmed from the GBCS text here; it is taken as the one after the largest identifier
    ECS42 / ECS43 use (the scripts numbered in the order GBCS lists the use cases: enable,
    disable, arm). A device answers by use case (message code), not by this number. No
    ECS42 / ECS43 form learned: no ECS44 form."""
    tables, scripts = set(), []
    for form in [*_siblings(learned, "ECS42"), *_siblings(learned, "ECS43")]:
        for spec, data in _requests(form):
            class_id, obis, method = _descriptor(spec)
            if (class_id, method) == (_SCRIPT_TABLE, _EXECUTE) and isinstance(data.get("value"), int):
                tables.add(obis)
                scripts.append(int(data["value"]))
    if len(tables) != 1:
        return []
    return [_form("ECS44 7.3 AUTHORED", "ECS44", "7.3", 0x0051, [
        _action(_SCRIPT_TABLE, tables.pop(), _EXECUTE, _value("long-unsigned", max(scripts) + 1))])]


# --- 6.18.1 Set Maximum Demand Configurable Time Period (ECS37) ------------------------------

#: The Schedule (class 10, Blue Book) whose two entries start and end the Maximum Demand
#: Configurable Time Period each day is the one ECS18b reads back (attribute 2, entries): taken
#: at run time from ECS18b's learned form.
_SCHEDULE = 10
#: SIBLING ECS18b (the entry layout it reads back). The script each entry runs is not
#: confirmed from the GBCS text here: the register-monitoring script table with selectors 1
#: (start) and 2 (end).
MAX_DEMAND_SCRIPTS = "00000a0001ff"  # 0-0:10.0.1.255
#: SECMP0131 (GBCS Table 28d corrected to the ECS37 COSEM template): every day of the week
#: (exec_weekdays all set), begin date 0x000001FFFF, end date never.
_EVERY_DAY = "1111111"
_BEGIN_DATE = "000001ffff"
_END_DATE = "ffffffffff"
_ANY_TIME = "ffffffff"


def _schedule_entry(index: int) -> dict[str, Any]:
    return {"@type": "structure", "elements": [
        _value("long-unsigned", index), _value("boolean", _TRUE),
        _value("octet-string", MAX_DEMAND_SCRIPTS), _value("long-unsigned", index),
        _value("octet-string", _ANY_TIME), _value("long-unsigned", 0xFFFF),
        {"@type": "bit-string", "bits": _EVERY_DAY}, {"@type": "bit-string", "bits": ""},
        _value("octet-string", _BEGIN_DATE), _value("octet-string", _END_DATE)]}


def _max_demand_period(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    schedules = {obis for form in _siblings(learned, "ECS18b") for spec, _ in _requests(form)
                 for class_id, obis, attribute in [_descriptor(spec)]
                 if (class_id, attribute) == (_SCHEDULE, 2)}
    if len(schedules) != 1:
        return []
    entries = {"@type": "array", "elements": [_schedule_entry(1), _schedule_entry(2)]}
    switch_time = 4  # element of a schedule entry
    return [_form("ECS37 6.18.1 AUTHORED", "ECS37", "6.18.1", 0x004A,
                  [_set(_SCHEDULE, schedules.pop(), 2, entries)], [
        [_data_at(0, "elements", 0, "elements", switch_time, "value"),
         "MaximumDemandTimePeriodSchedule/StartTime", "cosem-time"],
        [_data_at(0, "elements", 1, "elements", switch_time, "value"),
         "MaximumDemandTimePeriodSchedule/EndTime", "cosem-time"]])]


# --- 6.18.2 Reset Maximum Demand Registers (ECS57) -------------------------------------------

#: DUIS element -> the Extended Register (class 4) it resets with method 1 (reset, data
#: integer 0). Blue Book OBIS: C 1 / 2 active power import / export, D 6 maximum demand, E 0
#: the total. The register over the configurable time period is the other active power import
#: maximum demand register ECS18b reads (its E), taken at run time from ECS18b's learned form.
MAX_DEMAND_REGISTERS = {
    "MaxDemandActivePowerImportValue": "1-0:1.6.0.255",
    "MaxDemandActivePowerExportValue": "1-0:2.6.0.255",
}
_CONFIG_TIME = "MaxDemandConfigTimeActivePowerImportValue"


def _reset_max_demand(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One form per non-empty choice of registers: the request names those it resets."""
    registers = dict(MAX_DEMAND_REGISTERS)
    periods = {obis for form in _siblings(learned, "ECS18b") for spec, _ in _requests(form)
               for class_id, obis, _a in [_descriptor(spec)]
               if class_id == 4 and _group(obis, 0) == 1 and _group(obis, 1) == 6
               and _group(obis, 2) != 0}
    if len(periods) == 1:
        registers[_CONFIG_TIME] = periods.pop()
    out = []
    names = list(registers)
    for size in range(1, len(names) + 1):
        for chosen in combinations(names, size):
            label = "+".join(n.removeprefix("MaxDemand").removesuffix("Value") for n in chosen)
            out.append(_form(f"ECS57 6.18.2 AUTHORED {label}", "ECS57", "6.18.2", 0x005A,
                             [_action(4, registers[n], 1, _value("integer", 0))
                              for n in chosen], paths=chosen))
    return out


# --- 6.20.2 Set Device Configuration (Export MPAN) (ECS39b) ----------------------------------

def _export_mpan(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """SIBLING ECS39a (the import MPAN: a Data object, class 1 attribute 2, UTF-8 octets),
    its object taken at run time from ECS39a's learned form. GUESS: the export MPAN is not
    confirmed from the GBCS text here; it is taken as the next Data object (value group F
    one more than the import MPAN's)."""
    imports = {obis for form in _siblings(learned, "ECS39a") for spec, _ in _requests(form)
               for class_id, obis, attribute in [_descriptor(spec)] if (class_id, attribute) == (1, 2)}
    if len(imports) != 1:
        return []
    obis = imports.pop()
    export = _obis(obis, f=_group(obis, 3) + 1)
    return [_form("ECS39b 6.20.2 AUTHORED", "ECS39b", "6.20.2", 0x004D,
                  [_set(1, export, 2, _value("octet-string", ""))],
                  [[_data_at(0), "ExportMPAN", "utf8-hex"]])]


# --- 6.26 Update Device Configuration (daily resetting of Tariff Block Counter Matrix) -------

#: A Data object (class 1) holding a boolean: reset the block counters every day. The OBIS
#: code is not confirmed from the GBCS text here (a GB-specific 0-0:94.44 object, as the
#: other ESME configuration items are).
DAILY_BLOCK_COUNTER_RESET = "0-0:94.44.0.17"


def _daily_block_reset() -> list[dict[str, Any]]:
    return [_form("ECS48 6.26 AUTHORED", "ECS48", "6.26", 0x00DB,
                  [_set(1, DAILY_BLOCK_COUNTER_RESET, 2, _value("boolean", 0))],
                  [[_data_at(0), "DailyTariffBlockCounterMatrixReset", _XS_BOOLEAN]])]


# --- 4.15 Read Load Limit Data (ECS27) -------------------------------------------------------

#: GBCS's class 9000 (a configuration item with an active value, attribute 2, and a future
#: one): the load limiting configuration ECS28a sets; a Register (class 3) the counter ECS28b
#: resets.
_GB_CONFIGURATION, _REGISTER = 9000, 3


def _read_load_limit(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The active value of each load limiting item ECS28a sets (supply action, power
    threshold, period, restoration period; in its order) and the load limit counter ECS28b
    resets, the objects taken at run time from their learned forms."""
    config: list[str] = []
    for form in _siblings(learned, "ECS28a")[:1]:
        for spec, _ in _requests(form):
            class_id, obis, _a = _descriptor(spec)
            if class_id == _GB_CONFIGURATION and obis not in config:
                config.append(obis)
    counters = {obis for form in _siblings(learned, "ECS28b") for spec, _ in _requests(form)
                for class_id, obis, _a in [_descriptor(spec)] if class_id == _REGISTER}
    if not config or len(counters) != 1:
        return []
    return [_form("ECS27 4.15 AUTHORED", "ECS27", "4.15", 0x0042,
                  [*(_get(_GB_CONFIGURATION, obis, 2) for obis in config),
                   _get(_REGISTER, counters.pop(), 2)])]


# --- 4.16 Read Active Power Import (ECS17c) --------------------------------------------------

#: Blue Book: sum of all phases, active power import, instantaneous value (Register, class 3:
#: value and scaler_unit).
ACTIVE_POWER_IMPORT = "1-0:1.7.0.255"


def _read_power() -> list[dict[str, Any]]:
    return [_form("ECS17c 4.16 AUTHORED", "ECS17c", "4.16", 0x0028,
                  [_get(3, ACTIVE_POWER_IMPORT, 2), _get(3, ACTIVE_POWER_IMPORT, 3)])]


# --- 4.8.3 Read Export Profile Data (ECS22a) -------------------------------------------------

def _read_export_profile(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """SIBLING ECS22c (the reactive import profile): a Profile Generic (class 7) read by range
    (selector 1) on the ESME's UTC clock from the period's start to its end, its selective
    access taken at run time from ECS22c's learned form. GUESS: the export profile object is
    not confirmed from the GBCS text here; it is taken as the profile before ECS22c's (value
    group E one less), between the active import and reactive import profiles."""
    for form in _siblings(learned, "ECS22c")[:1]:
        spec = next((spec for spec, _ in _requests(form)), {})
        class_id, obis, attribute = _descriptor(spec)
        selection = spec.get("access_selection")
        if (class_id, attribute) != (7, 2) or not isinstance(selection, dict):
            return []
        spec = _attribute("get-with-selection", 7, _obis(obis, e=_group(obis, 2) - 1), 2)
        spec["access_selection"] = copy.deepcopy(selection)
        at = ["access_request_list_of_specification", 0, "access_selection",
              "access_parameters", "elements"]
        return [_form("ECS22a 4.8.3 AUTHORED", "ECS22a", "4.8.3", 0x0036,
                      [(spec, {"@type": "null-data"})], [
            [[*at, 1, "value"], "ReadLogPeriod/StartDateTime", "zcl-utc"],
            [[*at, 2, "value"], "ReadLogPeriod/EndDateTime", "zcl-utc"]])]
    return []


# --- 6.2.2 Read Device Configuration (Randomisation) (ECS26c) --------------------------------

#: The Randomised Offset Limit (seconds; ECS38 sets it), a Data object (class 1). The OBIS
#: code is not confirmed from the GBCS text here.
RANDOMISED_OFFSET_LIMIT = "0-0:94.44.0.8"


def _read_randomisation() -> list[dict[str, Any]]:
    return [_form("ECS26c 6.2.2 AUTHORED", "ECS26c", "6.2.2", 0x003D,
                  [_get(1, RANDOMISED_OFFSET_LIMIT, 2)])]


# --- 6.5 Set Voltage Configurations (ECS29a-d) --------------------------------------------------

#: SIBLING ECS29a (single phase, learned without a template): its requests, taken at run time
#: from its learned form, in its order, are read by their COSEM kind (Blue Book): a Profile
#: Generic's capture period (class 7 attribute 4) is the phase's averaging period; the Limiters
#: (class 71: threshold_normal attribute 4, min_over_threshold_duration 6) are the RMS extreme
#: over / under voltage, sag and swell limiters in the order DUIS lists them (GUESS: that
#: ECS29a sets them in that order); Data (class 1) thresholds of a phase are over (value group
#: D 35) and under (D 31) the average RMS voltage; Register resets (class 3 method 1) reset the
#: counters. A phase's objects have value group C 32, 52 or 72 (Blue Book: voltage L1, L2, L3);
#: a polyphase command takes each run of per-phase requests for every phase in turn.
_LIMITER_NAMES = ("RMSExtremeOverVoltage", "RMSExtremeUnderVoltage", "RMSVoltageSag", "RMSVoltageSwell")
_PHASE_GROUPS = (32, 52, 72)
_THRESHOLDS = {35: "AverageRMSOverVoltageThreshold", 31: "AverageRMSUnderVoltageThreshold"}
_PROFILE_GENERIC, _LIMITER, _DATA = 7, 71, 1
#: SRV 6.5's use cases: (code, message code, polyphase, counters reset). A request tells them
#: apart by SinglePhaseVoltageSettings / PolyPhaseVoltageSettings and RMSVoltageCountersNotReset.
_VOLTAGE_USE_CASES = (("ECS29a", 0x0045, False, True), ("ECS29b", 0x00AE, True, True),
                      ("ECS29c", 0x00D1, False, False), ("ECS29d", 0x00D2, True, False))
_NOT_RESET = "RMSVoltageCountersNotReset"


def _phase_object(spec: dict[str, Any]) -> bool:
    obis = _descriptor(spec)[1]
    return obis.startswith("1-") and _group(obis, 0) == _PHASE_GROUPS[0]


def _rephase(spec: dict[str, Any], group: int) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    descriptor: dict[str, Any] = out.get("cosem_attribute_descriptor") or out["cosem_method_descriptor"]
    descriptor["instance_id"] = _obis(descriptor["instance_id"], c=group)
    return out


def _voltage_source(spec: dict[str, Any], limiters: list[str], phase: str) -> str | None:
    """The DUIS body path a request of ECS29a's takes its value from (None: a counter reset)."""
    class_id, obis, member = _descriptor(spec)
    if spec.get("@type") != "access-request-set":
        return None
    if class_id == _LIMITER and member in (4, 6):
        name = _LIMITER_NAMES[limiters.index(obis)]
        return f"RMSVoltageSettings/{name}{'Threshold' if member == 4 else 'MeasurementPeriod'}"
    if class_id == _PROFILE_GENERIC and member == 4:
        return f"{phase}/AverageRMSVoltageMeasurementPeriod"
    if class_id == _DATA and member == 2 and _group(obis, 1) in _THRESHOLDS:
        return f"{phase}/{_THRESHOLDS[_group(obis, 1)]}"
    raise ValueError(f"ECS29a request {spec} is of no voltage setting known here")


def _voltage(learned: list[tuple[dict[str, Any], dict[str, Any]]], use_case: str, code: int,
             poly: bool, reset: bool) -> dict[str, Any]:
    limiters: list[str] = []
    for spec, _ in learned:
        class_id, obis, _m = _descriptor(spec)
        if class_id == _LIMITER and obis not in limiters:
            limiters.append(obis)
    if len(limiters) != len(_LIMITER_NAMES):
        raise ValueError(f"ECS29a sets {len(limiters)} Limiters, not {len(_LIMITER_NAMES)}")
    kept = [(spec, data) for spec, data in learned
            if reset or spec.get("@type") != "access-request-action"]
    # Runs of consecutive per-phase requests; a polyphase command repeats each for every phase.
    # (A run is also broken where sets give way to actions: all thresholds, then all resets.)
    runs: list[tuple[tuple[bool, str], list[tuple[dict[str, Any], dict[str, Any]]]]] = []
    for request in kept:
        key = (_phase_object(request[0]), str(request[0].get("@type")))
        if runs and runs[-1][0] == key:
            runs[-1][1].append(request)
        else:
            runs.append((key, [request]))

    def phase(n: int) -> str:
        if not poly:
            return "SinglePhaseVoltageSettings"
        return "PolyPhaseVoltageSettings" + ("" if n == 1 else f"[{n}]") + "/PhaseVoltageSettings"

    requests: list[tuple[dict[str, Any], dict[str, Any]]] = []
    bind: list[list[Any]] = []
    for (per_phase, _kind), run in runs:
        groups = (_PHASE_GROUPS if poly else _PHASE_GROUPS[:1]) if per_phase else (None,)
        for n, group in enumerate(groups, start=1):
            for spec, data in run:
                spec = _rephase(spec, group) if group is not None else copy.deepcopy(spec)
                source = _voltage_source(spec, limiters, phase(n))
                if source is not None:
                    bind.append([_data_at(len(requests)), source, "int"])
                requests.append((spec, copy.deepcopy(data)))
    # Which items the request has chooses the use case (`selection.fit`: most paths present).
    paths = [f"PolyPhaseVoltageSettings{'' if n == 1 else f'[{n}]'}/Phase" for n in (1, 2, 3)] \
        if poly else []
    return _form(f"{use_case} 6.5 AUTHORED", use_case, "6.5", code, requests, bind,
                 paths=(*paths, *(() if reset else (_NOT_RESET,))))


def _voltage_configurations(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    sibling = _siblings(learned, "ECS29a")
    if not sibling:
        return []
    requests = _requests(sibling[0])
    return [_voltage(requests, *row) for row in _VOLTAGE_USE_CASES]


def forms(learned: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The authored forms of this family, as raw table data (`tables._form`). `learned`: the
    learned forms (raw table data), whose sibling use cases some forms take objects from; a
    form whose sibling was not learned is left out (its use case stays not tabulated)."""
    return [*_payment_mode_credit(learned), *_arm_supply(learned),
            *_max_demand_period(learned), *_reset_max_demand(learned), *_export_mpan(learned),
            *_daily_block_reset(), *_read_load_limit(learned), *_read_power(),
            *_read_export_profile(learned), *_read_randomisation(),
            *_voltage_configurations(learned)]
