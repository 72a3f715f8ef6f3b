"""Authored command forms for variants of use cases whose RTDS vector shows a sibling only:
the critical end of the CS03A2 Method A join (non Meter) sent to the meter (SRV 8.7.1) and the
supplier's Set Event Behaviours for the ESME's audible alarm and logging (ECS25a2/a3, SRV 6.22).

As in `more.py`, each form takes its sibling's learned form at run time from `learned` (never
written here: nothing read from an RTDS vector is part of the source) and writes only what
GBCS fixes and the sibling does not show (the message code of the use-case table); a rule that
goes beyond the sibling is marked GUESS. Without the sibling's vector a form is left out and
its variant stays not tabulated. docs/transform.md ("Authored forms") lists each form.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opendcc.core.transform.authored.more import _derived

if TYPE_CHECKING:
    from opendcc.core.transform.tables import CommandForm

#: GBCS use-case table: the message code of CS03A2 Method A Join (non Meter).
CS03A2_CODE = 0x00AB


def join_non_meter_critical(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """CS03A2 Method A Join (non Meter), the critical command to the meter (SRV 8.7.1 Join
    Service (Critical), the RTDS variant CS03A2Critical): GBCS's ASN.1 JoinDeviceCommand with
    the OtherDeviceID (a PPMID or HCALCS) as entityID, signed by the supplier (no DCC sender).
    Its structure, joinMethodAndRole and deviceType are the learned CS03A1's (the critical
    Method A join at the meter end), taken at run time. GUESS: the meter takes the same role in
    either Method A join and the deviceType is not told apart (the DUIS request does not say
    whether the other device is a PPMID or an HCALCS); only the message code is CS03A2's."""
    for sibling in [f for f in learned if f.get("use_case") == "CS03A1"
                    and isinstance(f.get("payload"), dict) and not f.get("sender")
                    and f["payload"].get("name") == "JoinDeviceCommand"][:1]:
        payload = copy.deepcopy(sibling["payload"])
        names = [e.get("name") for e in payload.get("elements") or []]
        if names[:2] != ["joinMethodAndRole", "entityID"]:
            return []
        return [_derived(sibling, "CS03A2Critical 8.7.1 AUTHORED", "CS03A2", "8.7.1",
                         CS03A2_CODE, payload=payload, paths=("OtherDeviceID",),
                         bind=[[["elements", 1, "value"], "OtherDeviceID", "eui-hex"]],
                         devices=["ESME"])]
    return []


#: The binding source of an event behaviour bitmap, which the DCC computes from the request's
#: alert codes (`derived_sources`).
EVENT_BEHAVIOUR_BITS = "@event_behaviour_bits"
_BITS_AT = ["access_request_list_of_data", 0, "bits"]
#: GBCS use-case table message codes of ECS25a2 (audible alarm) and ECS25a3 (logging).
ECS25A2_CODE, ECS25A3_CODE = 0x00EB, 0x00EC
#: GUESS (OBIS value group E not confirmed from GBCS here): the supplier's audible alarm
#: behaviour object. Its logging one takes E from the learned ECS25b (the network operator's
#: logging object) and the HAN one (ECS25a1) gives the supplier's value group B.
AUDIBLE_ALARM_E = 13
#: The DUIS elements each variant's body chooses (its top-level branch).
BRANCHES = {"ECS25a2": "ElectricitySupplierAlarmSettings",
            "ECS25a3": "ElectricitySupplierLoggingSettings"}


def _alert_codes(sources: dict[str, str], branch: str) -> dict[int, bool]:
    """The alert codes (xHHHH leaves) below `branch` and whether each is enabled."""
    out: dict[int, bool] = {}
    for path, text in sources.items():
        leaf = path.rsplit("/", 1)[-1]
        if path.startswith(f"{branch}/") and leaf[:1] == "x" and len(leaf) == 5:
            try:
                out[int(leaf[1:], 16)] = text.strip() == "Enable"
            except ValueError:
                continue
    return out


def event_behaviour_bits(codes: dict[int, bool], size: int) -> str:
    """GUESS (the GBCS bit-position tables are not at hand): a bit-string of `size` bits, counted
    from its last bit, whose upper half flags each alert code the command sets and whose lower
    half says it is enabled, both at the code's low octet. `set_behaviours` keeps the rule
    only where it gives the learned ECS25a1's bitmap from ECS25a1's request."""
    half = size // 2
    bits = ["0"] * size
    for code, enabled in codes.items():
        low = code & 0xFF
        if half + low >= size:
            continue
        bits[size - 1 - (half + low)] = "1"
        if enabled:
            bits[size - 1 - low] = "1"
    return "".join(bits)


def _obis_groups(obis: str) -> tuple[str, list[str]]:
    head, rest = obis.split(":", 1)
    return head, rest.split(".")


def set_behaviours(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS25a2 / ECS25a3 Set Event Behaviours - ESME audible alarm / logging - Supplier (SRV
    6.22): the learned ECS25a1's DLMS set of an event behaviour bitmap (class 1 attribute 2,
    its Grouping Header and bit-string length, taken at run time) to another object, the
    bitmap computed from the request's alert codes (`event_behaviour_bits`, GUESS, checked
    against ECS25a1's own bitmap at load time: no form when it does not give it). Objects: the
    supplier's (ECS25a1's value group B) logging object is E of the learned ECS25b (the network
    operator's logging); the audible alarm's E is `AUDIBLE_ALARM_E` (GUESS)."""
    han = _siblings_of(learned, "ECS25a1")
    logging = _siblings_of(learned, "ECS25b")
    if not han or not logging:
        return []
    sibling = han[0]
    data = (sibling["payload"].get("access_request_list_of_data") or [{}])[0]
    bits = data.get("bits") if isinstance(data, dict) else None
    if not isinstance(bits, str) or not bits or data.get("@type") != "bit-string":
        return []
    asked = {int(p.rsplit("/x", 1)[-1], 16): v == "Enable" for p, v in sibling["when"].items()
             if "/x" in p}
    if not asked or event_behaviour_bits(asked, len(bits)) != bits:
        return []
    head, groups = _obis_groups(_instance(sibling))
    _, logging_groups = _obis_groups(_instance(logging[0]))
    out = []
    for use_case, code, e in (("ECS25a2", ECS25A2_CODE, str(AUDIBLE_ALARM_E)),
                              ("ECS25a3", ECS25A3_CODE, logging_groups[2])):
        payload = copy.deepcopy(sibling["payload"])
        obis = f"{head}:{'.'.join([*groups[:2], e, *groups[3:]])}"
        payload["access_request_list_of_specification"][0]["cosem_attribute_descriptor"][
            "instance_id"] = obis
        form = _derived(sibling, f"{use_case} 6.22 AUTHORED", use_case, "6.22", code,
                        payload=payload, devices=["ESME"],
                        bind=[copy.deepcopy(sibling["bind"][0]),
                              [_BITS_AT, EVENT_BEHAVIOUR_BITS, "text"]])
        form["paths"] = [BRANCHES[use_case]]
        out.append(form)
    return out


def _siblings_of(learned: Sequence[dict[str, Any]], use_case: str) -> list[dict[str, Any]]:
    """The learned single-object DLMS sets of `use_case`."""
    return [f for f in learned if f.get("use_case") == use_case
            and isinstance(f.get("payload"), dict)
            and f["payload"].get("@type") == "access-request"
            and len(f["payload"].get("access_request_list_of_specification") or []) == 1
            and f.get("bind")]


def _instance(form: dict[str, Any]) -> str:
    spec = form["payload"]["access_request_list_of_specification"][0]
    return str(spec.get("cosem_attribute_descriptor", {}).get("instance_id", "0-0:0.0.0.0"))


def derived_sources(sources: dict[str, str], form: CommandForm) -> dict[str, str]:
    """Values the DCC adds to a request's own for the forms here: an ECS25a2/a3 event
    behaviour bitmap from the request's alert codes, the size of the form's bit-string."""
    branch = BRANCHES.get(form.use_case)
    if branch is None or not isinstance(form.payload, dict):
        return {}
    data = (form.payload.get("access_request_list_of_data") or [{}])[0]
    size = len(data.get("bits") or "") if isinstance(data, dict) else 0
    codes = _alert_codes(sources, branch)
    return {EVENT_BEHAVIOUR_BITS: event_behaviour_bits(codes, size)} if size and codes else {}


def forms(learned: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The authored forms of this module, as raw table data (`tables._form`); each needs its
    sibling's learned form (else it is left out)."""
    return [*join_non_meter_critical(learned), *set_behaviours(learned)]
