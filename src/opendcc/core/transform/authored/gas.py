"""Authored command forms for use cases of the GSME and the GPF (gas meter and its proxy) that have no RTDS vector.

Each form is a GBZ payload (GBCS §7.5) of ZigBee Smart Energy 1.4 cluster commands, written
from the GBCS use case and the ZSE command it names, laid out as the payload codec's JSON
view (`opendcc.gbcs.payload.zcl_clusters`). Where GBCS leaves a GBZ header detail open (frame
control, extended header control field), the form copies the learned form of its closest
sibling use case (named in each builder), and says so.

Values the DCC sets rather than the user (ZCL issuer event ids, the request time of Change
Supply) are the time of issue (`@now`), as the learned forms of the sibling use cases do.
"""

from __future__ import annotations

from typing import Any

#: ZSE cluster ids (SE 1.4 Annex D): Price, Metering, Prepayment.
PRICE, METERING, PREPAYMENT = 0x0700, 0x0702, 0x0705
#: ZCL frame control of a cluster-specific command client -> server, and the same with
#: "disable default response" (bit 4), as the learned GCS40c and GCS25 forms carry them.
_CLUSTER_COMMAND, _NO_DEFAULT_RESPONSE = 0x01, 0x09
#: GBZ extended header control field: the last (here: only) component of the payload.
_LAST_COMPONENT = 0x01
#: SE 1.4 Metering Change Supply: Proposed Supply Status "Supply OFF / ARMED", and the
#: Supply Control Bits with "acknowledge required" set (the meter answers with a Supply
#: Status Response).
SUPPLY_ARMED, ACKNOWLEDGE_REQUIRED = 0x01, 0x01
#: SE 1.4 Prepayment Credit Adjustment Types: the prepayment-mode meter balance by an amount
#: (incremental) or to a value (absolute). GCS40c/d use GBCS's types 3 and 2 for the
#: credit-mode balance (learned from RTDS).
CREDIT_INCREMENTAL, CREDIT_ABSOLUTE = 0x00, 0x01
#: DUIS GasBillingCalendar Periodicity -> (ZSE billing period duration, duration type):
#: the duration type's low nibble is the timebase (1 days, 2 weeks, 3 months), the high
#: nibble 2 "not specified" control, as the learned GCS25 (Monthly: 1, 0x23) shows.
PERIODICITY = {"Daily": (1, 0x21), "Weekly": (1, 0x22), "Monthly": (1, 0x23),
               "Quarterly": (3, 0x23), "SixMonthly": (6, 0x23), "Yearly": (12, 0x23)}


def _component(cluster: int, command_id: int, command: str, fields: dict[str, Any], *,
               frame_control: int = _CLUSTER_COMMAND, last: bool = True,
               sequence: int = 0) -> dict[str, Any]:
    return {"@type": "gbz-component",
            "extended_header_control_field": _LAST_COMPONENT if last else 0,
            "extended_header_cluster_id": cluster,
            "zcl_frame": {"@type": "zcl-frame", "frame_control": frame_control,
                          "transaction_sequence_number": sequence,
                          "command_identifier": command_id,
                          "payload": {"@type": "cluster-command", "command": command,
                                      "fields": fields}}}


def _fields(component: int) -> list[Any]:
    return ["components", component, "zcl_frame", "payload", "fields"]


def arm_valve() -> dict[str, Any]:
    """GCS39 Arm Valve in GSME (SRV 7.3, critical): one GBZ component, the Metering cluster's
    Change Supply (0x0B) with Proposed Supply Status "Supply OFF / ARMED", to take effect at
    once (implementation date-time 0) and acknowledged (Supply Status Response). The GBZ
    header follows the learned GCS40c (one cluster command to the GSME)."""
    fields = {"provider_id": 0, "issuer_event_id": 0, "request_date_time": 0,
              "implementation_date_time": 0, "proposed_supply_status": SUPPLY_ARMED,
              "supply_control_bits": ACKNOWLEDGE_REQUIRED}
    return {
        "name": "GCS39 7.3 AUTHORED", "use_case": "GCS39", "srv": "7.3", "message_code": "0085",
        "devices": ["GSME"], "dating": "immediate", "exact": True, "learned": True,
        "paths": [], "roles": [2],
        "payload": {"@type": "gbz-payload", "components": [
            _component(METERING, 0x0B, "metering/change-supply", fields)]},
        "bind": [[[*_fields(0), "issuer_event_id"], "@now", "zcl-utc"],
                 [[*_fields(0), "request_date_time"], "@now", "zcl-utc"]],
    }


def _credit_adjustment(name: str, use_case: str, code: str, kind: int, path: str,
                       bind: list[list[Any]]) -> dict[str, Any]:
    fields = {"issuer_event_id": 0, "start_time": 0, "credit_adjustment_type": kind,
              "credit_adjustment_value": 0}
    return {
        "name": name, "use_case": use_case, "srv": "1.5", "message_code": code,
        "devices": ["GSME"], "dating": "immediate", "exact": True, "learned": True,
        "paths": [path], "roles": [2],
        "payload": {"@type": "gbz-payload", "components": [
            _component(PREPAYMENT, 0x05, "prepayment/credit-adjustment", fields)]},
        "bind": [[[*_fields(0), "issuer_event_id"], "@now", "zcl-utc"], *bind],
    }


def adjust_prepayment_balance() -> dict[str, Any]:
    """GCS40a Adjust Prepayment Mode Meter Balance (SRV 1.5 PrepaymentMode/AdjustMeterBalance,
    critical): the Prepayment cluster's Credit Adjustment (0x05), type Credit Incremental, by
    the DUIS amount, at once. The sibling GCS40c (learned) is the same command with GBCS's
    credit-mode type; the amount is carried as GCS40c carries it."""
    return _credit_adjustment(
        "GCS40a 1.5 AUTHORED", "GCS40a", "0086", CREDIT_INCREMENTAL,
        "PrepaymentMode/AdjustMeterBalance",
        [[[*_fields(0), "credit_adjustment_value"], "PrepaymentMode/AdjustMeterBalance", "int"]])


def reset_prepayment_balance() -> dict[str, Any]:
    """GCS40b Reset Prepayment Mode Meter Balance (SRV 1.5 PrepaymentMode/ResetMeterBalance,
    critical): Credit Adjustment type Credit Absolute to 0, as the learned GCS40d resets the
    credit-mode balance."""
    return _credit_adjustment("GCS40b 1.5 AUTHORED", "GCS40b", "00B4", CREDIT_ABSOLUTE,
                              "PrepaymentMode/ResetMeterBalance", [])


def billing_calendar() -> dict[str, Any]:
    """GCS25a Set Billing Calendar on the GSME - all periodicities (SRV 6.8, critical): the
    Price cluster's Publish Billing Period (0x09) and Publish Block Period (0x01), both from
    BillingPeriodStart with the period of the DUIS Periodicity. The structure is the learned
    GCS25's (Monthly only); the duration and its type follow the Periodicity word."""
    duration = ",".join(f"{word}={n}" for word, (n, _) in PERIODICITY.items())
    kind = ",".join(f"{word}={t}" for word, (_, t) in PERIODICITY.items())
    billing = {"provider_id": 0, "issuer_event_id": 0, "billing_period_start_time": 0,
               "billing_period_duration": 1, "billing_period_duration_type": 0x23,
               "tariff_type": 0}
    block = {"provider_id": 0, "issuer_event_id": 0, "block_period_start_time": 0,
             "block_period_duration": 1, "block_period_control": 2,
             "block_period_duration_type": 0x23, "tariff_type": 0, "tariff_resolution_period": 1}
    start, periodicity = "GasBillingCalendar/BillingPeriodStart", "GasBillingCalendar/Periodicity"
    return {
        "name": "GCS25a 6.8 AUTHORED", "use_case": "GCS25a", "srv": "6.8", "message_code": "00D8",
        # not "exact": a Monthly request keeps the learned GCS25 form (its RTDS vector)
        "devices": ["GSME"], "dating": "immediate", "exact": False, "learned": True,
        "paths": [start, periodicity], "roles": [2],
        "payload": {"@type": "gbz-payload", "components": [
            _component(PRICE, 0x09, "price/publish-billing-period", billing,
                       frame_control=_NO_DEFAULT_RESPONSE, last=False),
            _component(PRICE, 0x01, "price/publish-block-period", block,
                       frame_control=_NO_DEFAULT_RESPONSE, sequence=1)]},
        "bind": [[[*_fields(0), "billing_period_start_time"], start, "zcl-utc"],
                 [[*_fields(0), "billing_period_duration"], periodicity, f"map:{duration}"],
                 [[*_fields(0), "billing_period_duration_type"], periodicity, f"map:{kind}"],
                 [[*_fields(1), "block_period_start_time"], start, "zcl-utc"],
                 [[*_fields(1), "block_period_duration"], periodicity, f"map:{duration}"],
                 [[*_fields(1), "block_period_duration_type"], periodicity, f"map:{kind}"],
                 [[*_fields(0), "issuer_event_id"], "@now", "zcl-utc"],
                 [[*_fields(1), "issuer_event_id"], "@now", "zcl-utc"]],
    }


def forms() -> list[dict[str, Any]]:
    """The authored forms of this family, as raw table data (`tables._form`)."""
    return [arm_valve(), adjust_prepayment_balance(), reset_prepayment_balance(),
            billing_calendar()]
