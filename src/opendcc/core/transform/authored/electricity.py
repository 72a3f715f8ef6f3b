"""Authored command forms for use cases of the ESME (electricity meter) that have no RTDS vector.

Each form is the DLMS COSEM access-request the GBCS use case describes: the COSEM objects
(class id, OBIS code, attribute or method) it reads, sets or invokes, the message code of the
GBCS use-case table (`opendcc.gbcs.message_codes`) and bindings from the DUIS body. Where the
GBCS text for a use case could not be confirmed here, the form takes the structure of the
closest sibling use case that RTDS does show (named on each form as `SIBLING`), and says so;
docs/transform.md ("Authored forms") lists each form with its source.

Criticality is not part of a form: the Transform takes it from the use-case table (ECS44 and
ECS48 are critical, SME.C.C, and go out as Pre-Commands).
"""

from __future__ import annotations

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


# --- 7.3 Arm Supply (ECS44) --------------------------------------------------------------------

#: Disconnect Control Scripts (Script Table, class 9): ECS42 (enable), ECS43 (disable) and
#: ECS44 (arm) each execute one script of this table (method 1, script_execute).
DISCONNECT_CONTROL_SCRIPTS = "0-0:10.0.106.255"
#: SIBLING ECS43. The script identifier of Arm is not confirmed from the GBCS text here: the
#: supply scripts are taken as numbered in the order GBCS lists the use cases (enable,
#: disable, arm), so arm follows disable. A device answers by use case (message code), not
#: by this number.
ARM_SCRIPT = 53


def _arm_supply() -> list[dict[str, Any]]:
    return [_form("ECS44 7.3 AUTHORED", "ECS44", "7.3", 0x0051, [
        _action(9, DISCONNECT_CONTROL_SCRIPTS, 1, _value("long-unsigned", ARM_SCRIPT))])]


# --- 6.18.1 Set Maximum Demand Configurable Time Period (ECS37) ------------------------------

#: The Schedule (class 10) whose two entries start and end the Maximum Demand Configurable
#: Time Period each day; ECS18b reads the same object back (attribute 2, entries).
MAX_DEMAND_SCHEDULE = "0-0:12.0.0.255"
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


def _max_demand_period() -> list[dict[str, Any]]:
    entries = {"@type": "array", "elements": [_schedule_entry(1), _schedule_entry(2)]}
    switch_time = 4  # element of a schedule entry
    return [_form("ECS37 6.18.1 AUTHORED", "ECS37", "6.18.1", 0x004A,
                  [_set(10, MAX_DEMAND_SCHEDULE, 2, entries)], [
        [_data_at(0, "elements", 0, "elements", switch_time, "value"),
         "MaximumDemandTimePeriodSchedule/StartTime", "cosem-time"],
        [_data_at(0, "elements", 1, "elements", switch_time, "value"),
         "MaximumDemandTimePeriodSchedule/EndTime", "cosem-time"]])]


# --- 6.18.2 Reset Maximum Demand Registers (ECS57) -------------------------------------------

#: DUIS element -> the Extended Register (class 4) it resets with method 1 (reset, data
#: integer 0): maximum demand active power import, export, and import over the configurable
#: time period (the registers ECS18a/ECS18b read).
MAX_DEMAND_REGISTERS = {
    "MaxDemandActivePowerImportValue": "1-0:1.6.0.255",
    "MaxDemandActivePowerExportValue": "1-0:2.6.0.255",
    "MaxDemandConfigTimeActivePowerImportValue": "1-0:1.6.1.255",
}


def _reset_max_demand() -> list[dict[str, Any]]:
    """One form per non-empty choice of registers: the request names those it resets."""
    out = []
    names = list(MAX_DEMAND_REGISTERS)
    for size in range(1, len(names) + 1):
        for chosen in combinations(names, size):
            label = "+".join(n.removeprefix("MaxDemand").removesuffix("Value") for n in chosen)
            out.append(_form(f"ECS57 6.18.2 AUTHORED {label}", "ECS57", "6.18.2", 0x005A,
                             [_action(4, MAX_DEMAND_REGISTERS[n], 1, _value("integer", 0))
                              for n in chosen], paths=chosen))
    return out


# --- 6.20.2 Set Device Configuration (Export MPAN) (ECS39b) ----------------------------------

#: SIBLING ECS39a (import MPAN, 0-0:94.44.34.11, class 1 attribute 2, UTF-8 octets). The export
#: MPAN is taken as the next Data object; not confirmed from the GBCS text here.
EXPORT_MPAN = "0-0:94.44.34.12"


def _export_mpan() -> list[dict[str, Any]]:
    return [_form("ECS39b 6.20.2 AUTHORED", "ECS39b", "6.20.2", 0x004D,
                  [_set(1, EXPORT_MPAN, 2, _value("octet-string", ""))],
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

#: The load limiting configuration ECS28a sets (class 9000, attribute 2 the active value):
#: supply action, power threshold, period and restoration period; and the load limit counter
#: ECS28b resets (Register, class 3).
LOAD_LIMIT_CONFIG = ("0-0:94.44.0.3", "0-0:94.44.128.7", "0-0:94.44.128.6", "0-0:94.44.128.8")
LOAD_LIMIT_COUNTER = "0-0:94.44.42.255"


def _read_load_limit() -> list[dict[str, Any]]:
    return [_form("ECS27 4.15 AUTHORED", "ECS27", "4.15", 0x0042,
                  [*(_get(9000, obis, 2) for obis in LOAD_LIMIT_CONFIG),
                   _get(3, LOAD_LIMIT_COUNTER, 2)])]


# --- 4.16 Read Active Power Import (ECS17c) --------------------------------------------------

#: Blue Book: sum of all phases, active power import, instantaneous value (Register, class 3:
#: value and scaler_unit).
ACTIVE_POWER_IMPORT = "1-0:1.7.0.255"


def _read_power() -> list[dict[str, Any]]:
    return [_form("ECS17c 4.16 AUTHORED", "ECS17c", "4.16", 0x0028,
                  [_get(3, ACTIVE_POWER_IMPORT, 2), _get(3, ACTIVE_POWER_IMPORT, 3)])]


# --- 4.8.3 Read Export Profile Data (ECS22a) -------------------------------------------------

#: SIBLING ECS22c (reactive import profile, 0-0:99.1.2.255): a Profile Generic (class 7)
#: read by range (selector 1) on the ESME's UTC clock (0-0:94.44.100.255, attribute 2) from
#: the period's start to its end. The export profile object is taken as 0-0:99.1.1.255, between
#: the active import and reactive import profiles; not confirmed from the GBCS text here.
EXPORT_PROFILE = "0-0:99.1.1.255"
_UTC_CLOCK = "00005e2c64ff"


def _read_export_profile() -> list[dict[str, Any]]:
    spec = _attribute("get-with-selection", 7, EXPORT_PROFILE, 2)
    spec["access_selection"] = {
        "@type": "selective-access-descriptor", "access_selector": 1,
        "access_parameters": {"@type": "structure", "elements": [
            {"@type": "structure", "elements": [
                _value("long-unsigned", 1), _value("octet-string", _UTC_CLOCK),
                _value("integer", 2), _value("long-unsigned", 0)]},
            _value("double-long-unsigned", 0), _value("double-long-unsigned", 0),
            {"@type": "array", "elements": []}]}}
    at = ["access_request_list_of_specification", 0, "access_selection", "access_parameters",
          "elements"]
    return [_form("ECS22a 4.8.3 AUTHORED", "ECS22a", "4.8.3", 0x0036,
                  [(spec, {"@type": "null-data"})], [
        [[*at, 1, "value"], "ReadLogPeriod/StartDateTime", "zcl-utc"],
        [[*at, 2, "value"], "ReadLogPeriod/EndDateTime", "zcl-utc"]])]


# --- 6.2.2 Read Device Configuration (Randomisation) (ECS26c) --------------------------------

#: The Randomised Offset Limit (seconds; ECS38 sets it), a Data object (class 1). The OBIS
#: code is not confirmed from the GBCS text here.
RANDOMISED_OFFSET_LIMIT = "0-0:94.44.0.8"


def _read_randomisation() -> list[dict[str, Any]]:
    return [_form("ECS26c 6.2.2 AUTHORED", "ECS26c", "6.2.2", 0x003D,
                  [_get(1, RANDOMISED_OFFSET_LIMIT, 2)])]


# --- 6.5 Set Voltage Configurations (ECS29a-d) --------------------------------------------------

#: SIBLING ECS29a (single phase, learned without a template): the average RMS voltage
#: profile's capture period (class 7 attribute 4), the RMS extreme over/under voltage, sag and
#: swell Limiters (class 71: threshold_normal attribute 4, min_over_threshold_duration 6),
#: the average RMS over/under voltage thresholds (Data, class 1), then the counters of those
#: events reset (Register method 1). Phases 1, 2, 3 are OBIS groups C 32, 52, 72; a polyphase
#: command takes each per-phase item for every phase, in the order of ECS29a.
_LIMITERS = (("0-0:17.0.1.255", "RMSExtremeOverVoltage"), ("0-0:17.0.2.255", "RMSExtremeUnderVoltage"),
             ("0-0:17.0.3.255", "RMSVoltageSag"), ("0-0:17.0.4.255", "RMSVoltageSwell"))
_PHASE_GROUPS = (32, 52, 72)
#: SRV 6.5's use cases: (code, message code, polyphase, counters reset). A request tells them
#: apart by SinglePhaseVoltageSettings / PolyPhaseVoltageSettings and RMSVoltageCountersNotReset.
_VOLTAGE_USE_CASES = (("ECS29a", 0x0045, False, True), ("ECS29b", 0x00AE, True, True),
                      ("ECS29c", 0x00D1, False, False), ("ECS29d", 0x00D2, True, False))
_NOT_RESET = "RMSVoltageCountersNotReset"


def _voltage(use_case: str, code: int, poly: bool, reset: bool) -> dict[str, Any]:
    requests: list[tuple[dict[str, Any], dict[str, Any]]] = []
    bind: list[list[Any]] = []

    def add(request: tuple[dict[str, Any], dict[str, Any]], source: str | None) -> None:
        if source is not None:
            bind.append([_data_at(len(requests)), source, "int"])
        requests.append(request)

    groups = _PHASE_GROUPS if poly else _PHASE_GROUPS[:1]

    def phase(n: int) -> str:
        if not poly:
            return "SinglePhaseVoltageSettings"
        return "PolyPhaseVoltageSettings" + ("" if n == 1 else f"[{n}]") + "/PhaseVoltageSettings"

    for n, group in enumerate(groups, start=1):
        add(_set(7, f"1-0:{group}.24.0.255", 4, _value("double-long-unsigned", 0)),
            f"{phase(n)}/AverageRMSVoltageMeasurementPeriod")
    for obis, name in _LIMITERS:
        add(_set(71, obis, 4, _value("double-long-unsigned", 0)), f"RMSVoltageSettings/{name}Threshold")
        add(_set(71, obis, 6, _value("double-long-unsigned", 0)),
            f"RMSVoltageSettings/{name}MeasurementPeriod")
    for n, group in enumerate(groups, start=1):
        add(_set(1, f"1-0:{group}.35.0.4", 2, _value("double-long-unsigned", 0)),
            f"{phase(n)}/AverageRMSOverVoltageThreshold")
        add(_set(1, f"1-0:{group}.31.0.4", 2, _value("double-long-unsigned", 0)),
            f"{phase(n)}/AverageRMSUnderVoltageThreshold")
    if reset:
        for group in groups:
            add(_action(3, f"1-0:{group}.32.0.4", 1, _value("integer", 0)), None)
            add(_action(3, f"1-0:{group}.36.0.4", 1, _value("integer", 0)), None)
    # Which items the request has chooses the use case (`selection.fit`: most paths present).
    paths = [f"PolyPhaseVoltageSettings{'' if n == 1 else f'[{n}]'}/Phase" for n in (1, 2, 3)] \
        if poly else []
    return _form(f"{use_case} 6.5 AUTHORED", use_case, "6.5", code, requests, bind,
                 paths=(*paths, *(() if reset else (_NOT_RESET,))))


def _voltage_configurations() -> list[dict[str, Any]]:
    return [_voltage(*row) for row in _VOLTAGE_USE_CASES]


def forms() -> list[dict[str, Any]]:
    """The authored forms of this family, as raw table data (`tables._form`)."""
    return [*_arm_supply(), *_max_demand_period(), *_reset_max_demand(), *_export_mpan(),
            *_daily_block_reset(), *_read_load_limit(), *_read_power(), *_read_export_profile(),
            *_read_randomisation(), *_voltage_configurations()]
