"""Authored command forms for more use cases with no RTDS vector: log reads of the ESME and the
GSME (ECS20b/c, ECS21a, GCS15d, GCS16b), the ESME's Change of Tenancy date and CIN (ECS12,
ECS50), the clearing of a ZigBee device's event log (CS11) and the reading of a device's HAN
joins (CS07).

Each form is built from the closest sibling use case's learned form, taken at run time from
`learned` (never written here: nothing read from an RTDS vector is part of the source): its
Grouping Header facts (sender, remote party counter), its GBZ header or its COSEM selective
access. What GBCS fixes and the sibling does not show (the message code of the use-case table,
the ZSE command GBCS names) is written here; a rule that goes beyond the sibling is marked
GUESS. Without the sibling's vector a form is left out and its use case stays not tabulated.
docs/transform.md ("Authored forms") lists each form with its source.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from typing import Any

#: The invoke-id carries the Originator Counter (GBCS §7.2.7).
_INVOKE = [["long_invoke_id_and_priority"], "@counter", "invoke-id"]
#: Blue Book Profile Generic (class 7) buffer, Data (class 1) value.
_PROFILE, _DATA = 7, 1
#: Where a Profile Generic range read's from/to values sit in its selective access.
_RANGE = ["access_request_list_of_specification", 0, "access_selection", "access_parameters",
          "elements"]
_PERIOD_START, _PERIOD_END = "ReadLogPeriod/StartDateTime", "ReadLogPeriod/EndDateTime"

#: GUESS (OBIS not confirmed from GBCS here): the Billing Data Log objects beside ECS20a's
#: (payment-based debt payments) and ECS20d's (prepayment credits), by value group E: the
#: billing calendar triggered log first (E 0), the change of mode / tariff triggered next (E 1).
BILLING_LOG_E = {"ECS20c": 0, "ECS20b": 1}
#: GUESS: the ESME's import Daily Read Log, Blue Book's daily values profile (D 2, E 0); the
#: export one ECS21c reads is a GBCS object of its own.
DAILY_READ_LOG = "0-0:98.2.0.255"
#: GUESS: GBCS Data objects (class 1) of the ESME's Change of Tenancy date (a COSEM
#: date-time) and Customer Identification Number, in the GBCS range 0-0:94.44.
CHANGE_OF_TENANCY = "0-0:94.44.0.1"
CUSTOMER_IDENTIFICATION_NUMBER = "0-0:94.44.0.10"
#: ZSE cluster ids (SE 1.4 Annex D): Prepayment, Events.
PREPAYMENT, EVENTS = 0x0705, 0x0709
#: SE 1.4 Prepayment: Get Prepay Snapshot (0x07), Get Debt Repayment Log (0x0A); Events:
#: Clear Event Log Request (0x01).
GET_PREPAY_SNAPSHOT, GET_DEBT_REPAYMENT_LOG, CLEAR_EVENT_LOG = 0x07, 0x0A, 0x01
#: SE 1.4 Debt Type "all debts" (0xFF) and Number of Debts 0: every record the log holds.
#: GUESS: GBCS's payment-based debt is not singled out by a debt type here.
ALL_DEBTS, ALL_RECORDS = 0xFF, 0
#: ZCL frame control of a cluster-specific command client -> server (ZCL §2.4.1.1: direction
#: bit clear): the meter serves the Events cluster (GCS09's Device Management publish goes
#: the other way, server -> client).
CLIENT_TO_SERVER = 0x01
#: SE 1.4 Log ID of the GBCS (general) event log: CS11 clears the event log only, never the
#: security log (GBCS use-case table).
GBCS_EVENT_LOG = 0x06


def _siblings(learned: Sequence[dict[str, Any]], use_case: str, kind: str) -> list[dict[str, Any]]:
    """The learned forms of `use_case` whose payload is of `kind` (its `@type`)."""
    return [f for f in learned if f.get("use_case") == use_case
            and isinstance(f.get("payload"), dict) and f["payload"].get("@type") == kind]


def _derived(sibling: dict[str, Any], name: str, use_case: str, srv: str, code: int, *,
             payload: dict[str, Any], bind: list[list[Any]], paths: Sequence[str] = (),
             devices: Sequence[str] | None = None) -> dict[str, Any]:
    """A form with the sibling's Grouping Header facts (sender, counters, roles) and its own
    use case, message code, payload and bindings."""
    keep = ("sender", "remote_party_counter", "remote_party_ka_certificate", "roles")
    out = {k: copy.deepcopy(sibling.get(k)) for k in keep}
    out.update({"name": name, "use_case": use_case, "srv": srv, "message_code": f"{code:04X}",
                "devices": list(devices or sibling.get("devices") or []), "dating": "immediate",
                "exact": True, "learned": True, "when": {},
                "paths": sorted({*paths, *(["KAPublicSecurityCredentials"]
                                           if sibling.get("remote_party_ka_certificate") else [])}),
                "payload": payload, "bind": bind, "repeat": []})
    out["roles"] = out["roles"] or [2]
    return out


def _obis_e(obis: str, e: int) -> str:
    head, rest = obis.split(":", 1)
    groups = rest.split(".")
    groups[2] = str(e)
    return f"{head}:{'.'.join(groups)}"


def _range_read(sibling: dict[str, Any], obis: str) -> dict[str, Any] | None:
    """The sibling's Profile Generic range read (its selective access) of `obis` instead."""
    payload = copy.deepcopy(sibling["payload"])
    specs = payload.get("access_request_list_of_specification") or []
    if len(specs) != 1 or specs[0].get("@type") != "access-request-get-with-selection":
        return None
    descriptor = specs[0].get("cosem_attribute_descriptor") or {}
    if (descriptor.get("class_id"), descriptor.get("attribute_id")) != (_PROFILE, 2):
        return None
    descriptor["instance_id"] = obis
    return dict(payload)


def _period_bind() -> list[list[Any]]:
    return [_INVOKE, [[*_RANGE, 1, "value"], _PERIOD_START, "zcl-utc"],
            [[*_RANGE, 2, "value"], _PERIOD_END, "zcl-utc"]]


def read_billing_data_logs(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS20b (SRV 4.4.2, change of mode / tariff triggered) and ECS20c (4.4.3, billing calendar
    triggered) Read ESME Billing Data Log: a Profile Generic buffer read by range on the UTC
    clock from ReadLogPeriod's start to its end, as the learned ECS20a reads its log (its
    selective access and header taken at run time); the object per `BILLING_LOG_E` (GUESS)."""
    out: list[dict[str, Any]] = []
    for sibling in _siblings(learned, "ECS20a", "access-request")[:1]:
        descriptor = sibling["payload"]["access_request_list_of_specification"][0].get(
            "cosem_attribute_descriptor", {})
        for use_case, srv, code in (("ECS20b", "4.4.2", 0x002F), ("ECS20c", "4.4.3", 0x0030)):
            obis = _obis_e(str(descriptor.get("instance_id", "")), BILLING_LOG_E[use_case])
            payload = _range_read(sibling, obis)
            if payload is not None:
                out.append(_derived(sibling, f"{use_case} {srv} AUTHORED", use_case, srv, code,
                                    payload=payload, bind=_period_bind(),
                                    paths=(_PERIOD_START, _PERIOD_END), devices=["ESME"]))
    return out


def read_daily_read_log(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS21a Read Electricity Daily Read Log (exc export) (SRV 4.6.1, single and twin ESME):
    the Daily Read Log read by range from ReadLogPeriod's start to its end, as the learned
    ECS21c reads the export daily read log (its selective access taken at run time). The
    Grouping Header is a known remote party's (as the learned ECS21b KRP form): the supplier
    reads its own meter. The object is `DAILY_READ_LOG` (GUESS)."""
    export = _siblings(learned, "ECS21c", "access-request")[:1]
    header = [f for f in _siblings(learned, "ECS21b", "access-request") if not f.get("sender")][:1]
    for sibling in export:
        payload = _range_read(sibling, DAILY_READ_LOG)
        if payload is not None:
            return [_derived(header[0] if header else {**sibling, "sender": None,
                                                      "remote_party_counter": False},
                             "ECS21a 4.6.1 AUTHORED", "ECS21a", "4.6.1", 0x0033,
                             payload=payload, bind=_period_bind(),
                             paths=(_PERIOD_START, _PERIOD_END), devices=["ESME"])]
    return []


def _set_data(obis: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"@type": "access-request", "long_invoke_id_and_priority": 0, "date_time": "",
            "access_request_list_of_specification": [
                {"@type": "access-request-set",
                 "cosem_attribute_descriptor": {"@type": "cosem-attribute-descriptor",
                                                "class_id": _DATA, "instance_id": obis,
                                                "attribute_id": 2}}],
            "access_request_list_of_data": [data]}


def change_of_tenancy(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS12 Set Change of Tenancy date on ESME (SRV 3.2, non-critical, executed on receipt
    whether the date is past or future): set the Change of Tenancy date Data object to
    RestrictionDateTime as a COSEM date-time. The header is the learned ECS21b KRP form's (a
    supplier command to its ESME); GCS09 is the GSME's version. Object: GUESS."""
    header = [f for f in _siblings(learned, "ECS21b", "access-request") if not f.get("sender")][:1]
    if not header:
        return []
    payload = _set_data(CHANGE_OF_TENANCY, {"@type": "octet-string", "value": "00" * 12})
    return [_derived(header[0], "ECS12 3.2 AUTHORED", "ECS12", "3.2", 0x0022, payload=payload,
                     bind=[_INVOKE, [["access_request_list_of_data", 0, "value"],
                                     "RestrictionDateTime", "cosem-datetime"]],
                     paths=("RestrictionDateTime",), devices=["ESME"])]


def customer_identification_number(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """ECS50 Send CIN to ESME (SRV 9.1): set the CIN Data object to the CIN the DCC sends, as
    the learned GCS36 (the GSME's Update CIN) does: its Grouping Header (the DCC originates the
    command for the user) and its CIN taken at run time, carried as a visible-string.
    Object: GUESS."""
    for sibling in _siblings(learned, "GCS36", "gbz-payload")[:1]:
        fields = _zcl_fields(sibling, 0)
        cin = fields.get("customer_id_number") if fields else None
        if not isinstance(cin, str):
            return []
        payload = _set_data(CUSTOMER_IDENTIFICATION_NUMBER, {"@type": "visible-string",
                                                             "value": cin})
        return [_derived(sibling, "ECS50 9.1 AUTHORED", "ECS50", "9.1", 0x0058,
                         payload=payload, bind=[_INVOKE], devices=["ESME"])]
    return []


# --- GBZ (the GSME) -------------------------------------------------------------------------

def _zcl_fields(form: dict[str, Any], i: int) -> dict[str, Any] | None:
    components = form["payload"].get("components") or []
    if i >= len(components):
        return None
    fields = components[i].get("zcl_frame", {}).get("payload", {}).get("fields")
    return fields if isinstance(fields, dict) else None


def _fields_at(i: int) -> list[Any]:
    return ["components", i, "zcl_frame", "payload", "fields"]


def _command(component: dict[str, Any], cluster: int, command_id: int, command: str,
             fields: dict[str, Any]) -> dict[str, Any]:
    """`component` (a sibling's: its GBZ header and ZCL frame control) carrying another ZSE
    command."""
    out = copy.deepcopy(component)
    out["extended_header_cluster_id"] = cluster
    frame = out["zcl_frame"]
    frame["command_identifier"] = command_id
    frame["payload"] = {"@type": "cluster-command", "command": command, "fields": fields}
    return out


def read_prepayment_daily_log(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """GCS16b Read GSME Daily Read log(s) (prepayment) (SRV 4.14, KRP to the GSME, URP through
    the GPF): one Prepayment cluster Get Prepay Snapshot (SE 1.4, 0x07) per daily snapshot
    offset the learned GCS16a asks Get Snapshot for, with its snapshot cause and its GBZ
    headers (taken at run time), bound to ReadLogPeriod as GCS16a is. The KRP and URP
    Grouping Header facts are the learned ECS21b's (the ESME's 4.14), the URP one with the
    requester's KA certificate."""
    daily = _siblings(learned, "GCS16a", "gbz-payload")[:1]
    if not daily:
        return []
    sibling = daily[0]
    components, bind = [], []
    for i, component in enumerate(sibling["payload"].get("components") or []):
        fields = _zcl_fields(sibling, i) or {}
        if not {"snapshot_offset", "snapshot_cause"} <= set(fields):
            return []
        components.append(_command(component, PREPAYMENT, GET_PREPAY_SNAPSHOT,
                                   "prepayment/get-prepay-snapshot",
                                   {"earliest_start_time": 0, "latest_end_time": 0,
                                    "snapshot_offset": fields["snapshot_offset"],
                                    "snapshot_cause": fields["snapshot_cause"]}))
        bind += [[[*_fields_at(i), "earliest_start_time"], _PERIOD_START, "zcl-utc"],
                 [[*_fields_at(i), "latest_end_time"], _PERIOD_END, "zcl-utc"]]
    payload = {**sibling["payload"], "components": components}
    out = []
    for header in _siblings(learned, "ECS21b", "access-request"):
        urp = bool(header.get("remote_party_ka_certificate"))
        out.append(_derived(header, f"GCS16b 4.14 AUTHORED {'URP' if urp else 'KRP'}", "GCS16b",
                            "4.14", 0x0096, payload=copy.deepcopy(payload), bind=bind,
                            paths=(_PERIOD_START, _PERIOD_END), devices=["GSME", "GPF"]))
    return out


def read_debt_repayment_log(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """GCS15d Read GSME Billing Data Log (payment-based debt payments) (SRV 4.4.4): the
    Prepayment cluster's Get Debt Repayment Log (SE 1.4, 0x0A) up to ReadLogPeriod's end,
    every record (`ALL_RECORDS`) of every debt (`ALL_DEBTS`, GUESS), in the GBZ header and
    Grouping Header of the learned GCS15b (the prepayment snapshots of the same log), as its
    last component."""
    for sibling in _siblings(learned, "GCS15b", "gbz-payload")[:1]:
        first = (sibling["payload"].get("components") or [None])[0]
        if not isinstance(first, dict):
            return []
        component = _command(first, PREPAYMENT, GET_DEBT_REPAYMENT_LOG,
                             "prepayment/get-debt-repayment-log",
                             {"latest_end_time": 0, "number_of_debts": ALL_RECORDS,
                              "debt_type": ALL_DEBTS})
        component["extended_header_control_field"] = 1  # the last (only) component
        payload = {**sibling["payload"], "components": [component]}
        return [_derived(sibling, "GCS15d 4.4.4 AUTHORED", "GCS15d", "4.4.4", 0x00C4,
                         payload=payload, paths=(_PERIOD_END,),
                         bind=[[[*_fields_at(0), "latest_end_time"], _PERIOD_END, "zcl-utc"]],
                         devices=["GSME", "GPF"])]
    return []


def clear_event_log(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """CS11 Clear ZigBee Device Event Log (SRV 3.3, non-critical): the Events cluster's Clear
    Event Log Request (SE 1.4, 0x01) of the GBCS event log (`GBCS_EVENT_LOG`; the security
    log cannot be cleared remotely), client -> server, in the GBZ header and Grouping Header
    of the learned GCS09 (a one-component command to the GSME's side)."""
    for sibling in _siblings(learned, "GCS09", "gbz-payload")[:1]:
        first = (sibling["payload"].get("components") or [None])[0]
        if not isinstance(first, dict):
            return []
        component = _command(first, EVENTS, CLEAR_EVENT_LOG, "events/clear-event-log-request",
                             {"log_id": GBCS_EVENT_LOG})
        component["extended_header_control_field"] = 1
        component["zcl_frame"]["frame_control"] = CLIENT_TO_SERVER
        return [_derived(sibling, "CS11 3.3 AUTHORED", "CS11", "3.3", 0x0015,
                         payload={**sibling["payload"], "components": [component]}, bind=[],
                         devices=["GSME"])]
    return []


def read_device_join_details(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """CS07 Read Device Join Details (SRV 8.9, non-critical, a use case for any device): GBCS's
    ASN.1 ReadDeviceJoinDetailsCommand (NULL), with the Grouping Header of the learned CS03A1
    (GBCS's ASN.1 join command from a supplier to its meter, no DCC sender)."""
    for sibling in [f for f in learned if f.get("use_case") == "CS03A1"
                    and isinstance(f.get("payload"), dict) and not f.get("sender")][:1]:
        return [_derived(sibling, "CS07 8.9 AUTHORED", "CS07", "8.9", 0x0013,
                         payload={"@type": "NULL", "name": "ReadDeviceJoinDetailsCommand"},
                         bind=[], devices=["ESME", "GSME"])]
    return []


#: The binding source of the other device's Key Agreement certificate (base64 DER), which the
#: DCC takes from SMKI for a join (`derived_sources`).
OTHER_DEVICE_KA_CERTIFICATE = "@other_device_ka_certificate"
#: GUESS: GBCS joinMethodAndRole of the meter end of a Method C join: the learned joins use
#: 0-3 (Method A meter and other end, Method B, Method C other end); the meter end is taken as
#: the next value.
METHOD_C_METER_END = 4


def derived_sources(sources: dict[str, str], keys: Any) -> dict[str, str]:
    """Values the DCC adds to a request's own for the forms here: the OtherDeviceID's KA
    certificate from SMKI (GBCS §13.7: a Method C join gives each end the other's certificate),
    when `keys` holds it."""
    other = sources.get("OtherDeviceID")
    if not other or keys is None:
        return {}
    from opendcc.ids import EUI64

    try:
        certificate = keys.certificate(EUI64.parse(other), "ka")
    except ValueError:
        return {}
    if certificate is None:
        return {}
    from cryptography.hazmat.primitives.serialization import Encoding

    der = certificate.public_bytes(Encoding.DER)
    return {OTHER_DEVICE_KA_CERTIFICATE: base64.b64encode(der).decode()}


def join_gsme(learned: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """CS03C Method C Join, the GSME end (SRV 8.7.1 Join Service (Critical), signed by the
    supplier): GBCS's ASN.1 JoinDeviceCommand as the learned CS03C sends it to the other end
    (its structure taken at run time), with joinMethodAndRole `METHOD_C_METER_END` (GUESS), the
    OtherDeviceID as entityID and that device's KA certificate from SMKI; originated by the
    user (no DCC sender), as the critical CS03A1 to the ESME."""
    for sibling in [f for f in learned if f.get("use_case") == "CS03C"
                    and isinstance(f.get("payload"), dict)
                    and f["payload"].get("name") == "JoinDeviceCommand"][:1]:
        payload = copy.deepcopy(sibling["payload"])
        elements = payload.get("elements") or []
        names = [e.get("name") for e in elements]
        if names[:3] != ["joinMethodAndRole", "entityID", "deviceType"] \
                or "otherDeviceCertificate" not in names:
            return []
        elements[0]["value"] = METHOD_C_METER_END
        at = names.index("otherDeviceCertificate")
        header = {**sibling, "sender": None, "remote_party_counter": False,
                  "remote_party_ka_certificate": None}
        return [_derived(header, "CS03C 8.7.1 AUTHORED", "CS03C", "8.7.1", 0x00AF,
                         payload=payload, paths=("OtherDeviceID",), devices=["GSME"],
                         bind=[[["elements", 1, "value"], "OtherDeviceID", "eui-hex"],
                               [["elements", at], OTHER_DEVICE_KA_CERTIFICATE, "der-asn1"]])]
    return []


def forms(learned: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The authored forms of this module, as raw table data (`tables._form`); each needs its
    sibling's learned form (else it is left out)."""
    return [*read_billing_data_logs(learned), *read_daily_read_log(learned),
            *change_of_tenancy(learned), *customer_identification_number(learned),
            *read_prepayment_daily_log(learned), *read_debt_repayment_log(learned),
            *clear_event_log(learned), *read_device_join_details(learned), *join_gsme(learned)]
