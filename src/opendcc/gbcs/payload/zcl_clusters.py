"""Cluster-specific ZCL commands that GBCS uses (ZigBee Smart Energy 1.4, 07-5356, as GBCS uses them).

Each command's payload is a row of `LAYOUTS`: (cluster, direction, command id) -> name and
fields, each field a (name, ZCL type) pair; `Repeat` is a group repeated to the end of the
payload (or as many times as an earlier count field says), `Trailing` a field that may be
absent at the end. One reader and one writer walk the rows. A payload that does not fit its
row (a layout variant not modelled) is kept as raw octets by the caller, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opendcc.gbcs.payload.errors import GbcsError, InvalidTree
from opendcc.gbcs.payload.names import zigbee_utc_text
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.tree import NOTES
from opendcc.gbcs.payload.zcl import ZclCommandPayload

BASIC, PRICE, METERING, MESSAGING, TUNNELING, PREPAYMENT, CALENDAR, DEVICE_MANAGEMENT, EVENTS = (
    0x0000, 0x0700, 0x0702, 0x0703, 0x0704, 0x0705, 0x0707, 0x0708, 0x0709)
TO_SERVER, TO_CLIENT = False, True

#: ZCL type -> (octets, signed); "octstr"/"string" are length-prefixed, "date" 4 raw octets.
_SIZES: dict[str, tuple[int, bool]] = {
    "uint8": (1, False), "uint16": (2, False), "uint24": (3, False), "uint32": (4, False),
    "uint48": (6, False), "int32": (4, True), "utc": (4, False), "map8": (1, False),
    "map16": (2, False), "map32": (4, False), "enum8": (1, False), "enum16": (2, False),
    "bool": (1, False),
}


@dataclass(frozen=True)
class Repeat:
    """A group of fields repeated to the end of the payload, or `count` times."""

    name: str
    fields: tuple[tuple[str, str], ...]
    count: str | None = None  # the name of an earlier field holding the number of groups


@dataclass(frozen=True)
class Trailing:
    """A last field that senders may leave out."""

    name: str
    type: str


@dataclass(frozen=True)
class Variant:
    """The rest of the payload, laid out as an earlier field selects (e.g. a snapshot type);
    kept as octets when that field names no modelled case."""

    name: str
    selector: str
    cases: dict[int, tuple[Item, ...]]


Item = tuple[str, str] | Repeat | Trailing | Variant


@dataclass(frozen=True)
class Layout:
    name: str
    items: tuple[Item, ...]


def _f(*pairs: str) -> tuple[tuple[str, str], ...]:
    """Fields written as "name:type" for a compact table."""
    return tuple((p.split(":")[0], p.split(":")[1]) for p in pairs)


def _layout(name: str, *items: str | Repeat | Trailing | Variant) -> Layout:
    return Layout(name, tuple(_f(i)[0] if isinstance(i, str) else i for i in items))


def _tier_registers(direction: str) -> tuple[Item, ...]:
    """SE 1.4 Metering snapshot sub-payloads "TOU Information Set" (types 0, 1, 4, 5)."""
    return (
        (f"current_summation_{direction}", "uint48"), ("number_of_tiers_in_use", "uint8"),
        Repeat(f"tier_summation_{direction}", _f("summation:uint48"),
               count="number_of_tiers_in_use"))


def _block_registers(direction: str) -> tuple[Item, ...]:
    """SE 1.4 Metering snapshot sub-payloads "Block Tier Information Set" (types 2, 3, 6, 7)."""
    return (*_tier_registers(direction),
            ("number_of_tiers_and_block_thresholds_in_use", "map8"),
            Repeat(f"tier_block_summation_{direction}", _f("summation:uint48")))


#: Metering Publish Snapshot: snapshot payload type -> sub-payload
SNAPSHOT_SUB_PAYLOADS: dict[int, tuple[Item, ...]] = {
    0: _tier_registers("delivered"), 1: _tier_registers("received"),
    2: _block_registers("delivered"), 3: _block_registers("received"),
    4: _tier_registers("delivered"), 5: _tier_registers("received"),
    6: _block_registers("delivered"), 7: _block_registers("received"),
}

#: Prepayment Publish Prepay Snapshot: snapshot payload type -> sub-payload
PREPAY_SNAPSHOT_SUB_PAYLOADS: dict[int, tuple[Item, ...]] = {
    0: _f("accumulated_debt:int32", "type_1_debt_remaining:uint32",
          "type_2_debt_remaining:uint32", "type_3_debt_remaining:uint32",
          "emergency_credit_remaining:uint32", "credit_remaining:int32"),
}

#: (cluster id, server-to-client, command id) -> layout (SE 1.4 chapter per cluster)
LAYOUTS: dict[tuple[int, bool, int], Layout] = {
    # Basic cluster (ZCL §3.2)
    (BASIC, TO_SERVER, 0x00): _layout("basic/reset-to-factory-defaults"),
    # Tunneling cluster (SE 1.4 §D.6): tunnelled payloads stay octets inside Transfer Data
    (TUNNELING, TO_SERVER, 0x00): _layout(
        "tunneling/request-tunnel", "protocol_id:enum8", "manufacturer_code:uint16",
        "flow_control_support:bool", "maximum_incoming_transfer_size:uint16"),
    (TUNNELING, TO_SERVER, 0x01): _layout("tunneling/close-tunnel", "tunnel_id:uint16"),
    (TUNNELING, TO_SERVER, 0x02): _layout(
        "tunneling/transfer-data", "tunnel_id:uint16", Trailing("data", "rest")),
    (TUNNELING, TO_SERVER, 0x03): _layout(
        "tunneling/transfer-data-error", "tunnel_id:uint16", "transfer_data_status:uint8"),
    (TUNNELING, TO_SERVER, 0x04): _layout(
        "tunneling/ack-transfer-data", "tunnel_id:uint16", "number_of_bytes_left:uint16"),
    (TUNNELING, TO_SERVER, 0x05): _layout(
        "tunneling/ready-data", "tunnel_id:uint16", "number_of_octets_left:uint16"),
    (TUNNELING, TO_SERVER, 0x06): _layout(
        "tunneling/get-supported-tunnel-protocols", "protocol_offset:uint8"),
    (TUNNELING, TO_CLIENT, 0x00): _layout(
        "tunneling/request-tunnel-response", "tunnel_id:uint16", "tunnel_status:uint8",
        "maximum_incoming_transfer_size:uint16"),
    (TUNNELING, TO_CLIENT, 0x01): _layout(
        "tunneling/transfer-data-response", "tunnel_id:uint16", Trailing("data", "rest")),
    (TUNNELING, TO_CLIENT, 0x02): _layout(
        "tunneling/transfer-data-error-response", "tunnel_id:uint16",
        "transfer_data_status:uint8"),
    (TUNNELING, TO_CLIENT, 0x03): _layout(
        "tunneling/ack-transfer-data-response", "tunnel_id:uint16",
        "number_of_bytes_left:uint16"),
    (TUNNELING, TO_CLIENT, 0x04): _layout(
        "tunneling/ready-data-response", "tunnel_id:uint16", "number_of_octets_left:uint16"),
    (TUNNELING, TO_CLIENT, 0x05): _layout(
        "tunneling/supported-tunnel-protocols-response", "protocol_list_complete:bool",
        "protocol_count:uint8",
        Repeat("protocol_list", _f("manufacturer_code:uint16", "protocol_id:enum8"),
               count="protocol_count")),
    (TUNNELING, TO_CLIENT, 0x06): _layout(
        "tunneling/tunnel-closure-notification", "tunnel_id:uint16"),
    # Price cluster (SE 1.4 §D.4)
    (PRICE, TO_SERVER, 0x00): _layout("price/get-current-price", "command_options:map8"),
    (PRICE, TO_SERVER, 0x0B): _layout(
        "price/get-billing-period", "earliest_start_time:utc", "min_issuer_event_id:uint32",
        "number_of_commands:uint8", "tariff_type:map8"),
    (PRICE, TO_CLIENT, 0x00): _layout(
        "price/publish-price", "provider_id:uint32", "rate_label:string",
        "issuer_event_id:uint32", "current_time:utc", "unit_of_measure:enum8",
        "currency:uint16", "price_trailing_digit_and_price_tier:map8",
        "number_of_price_tiers_and_register_tier:map8", "start_time:utc",
        "duration_in_minutes:uint16", "price:uint32", Trailing("additional_octets", "rest")),
    (PRICE, TO_CLIENT, 0x01): _layout(
        "price/publish-block-period", "provider_id:uint32", "issuer_event_id:uint32",
        "block_period_start_time:utc", "block_period_duration:uint24",
        "block_period_control:map8", "block_period_duration_type:map8", "tariff_type:map8",
        "tariff_resolution_period:enum8"),
    (PRICE, TO_CLIENT, 0x02): _layout(
        "price/publish-conversion-factor", "issuer_event_id:uint32", "start_time:utc",
        "conversion_factor:uint32", "conversion_factor_trailing_digit:map8"),
    (PRICE, TO_CLIENT, 0x03): _layout(
        "price/publish-calorific-value", "issuer_event_id:uint32", "start_time:utc",
        "calorific_value:uint32", "calorific_value_unit:enum8",
        "calorific_value_trailing_digit:map8"),
    (PRICE, TO_CLIENT, 0x04): _layout(
        "price/publish-tariff-information", "provider_id:uint32", "issuer_event_id:uint32",
        "issuer_tariff_id:uint32", "start_time:utc", "tariff_type_charging_scheme:map8",
        "tariff_label:string", "number_of_price_tiers_in_use:uint8",
        "number_of_block_thresholds_in_use:uint8", "unit_of_measure:enum8", "currency:uint16",
        "price_trailing_digit:map8", "standing_charge:uint32", "tier_block_mode:uint8",
        "block_threshold_multiplier:uint24", "block_threshold_divisor:uint24"),
    (PRICE, TO_CLIENT, 0x05): _layout(
        "price/publish-price-matrix", "provider_id:uint32", "issuer_event_id:uint32",
        "start_time:utc", "issuer_tariff_id:uint32", "command_index:uint8",
        "number_of_commands:uint8", "sub_payload_control:map8",
        Repeat("price_matrix_sub_payload", _f("tier_block_id:uint8", "price:uint32"))),
    (PRICE, TO_CLIENT, 0x06): _layout(
        "price/publish-block-thresholds", "provider_id:uint32", "issuer_event_id:uint32",
        "start_time:utc", "issuer_tariff_id:uint32", "command_index:uint8",
        "number_of_commands:uint8", "sub_payload_control:map8",
        "tier_number_of_block_thresholds:map8",
        Repeat("block_thresholds", _f("block_threshold:uint48"))),
    (PRICE, TO_CLIENT, 0x09): _layout(
        "price/publish-billing-period", "provider_id:uint32", "issuer_event_id:uint32",
        "billing_period_start_time:utc", "billing_period_duration:uint24",
        "billing_period_duration_type:map8", "tariff_type:map8"),
    # Metering cluster (SE 1.4 §D.3)
    (METERING, TO_SERVER, 0x06): _layout(
        "metering/get-snapshot", "earliest_start_time:utc", "latest_end_time:utc",
        "snapshot_offset:uint8", "snapshot_cause:map32"),
    (METERING, TO_SERVER, 0x07): _layout(
        "metering/start-sampling", "issuer_event_id:uint32", "start_sampling_time:utc",
        "sample_type:enum8", "sample_request_interval:uint16", "max_number_of_samples:uint16"),
    (METERING, TO_SERVER, 0x08): _layout(
        "metering/get-sampled-data", "sample_id:uint16", "earliest_sample_time:utc",
        "sample_type:enum8", "number_of_samples:uint16"),
    (METERING, TO_SERVER, 0x0B): _layout(
        "metering/change-supply", "provider_id:uint32", "issuer_event_id:uint32",
        "request_date_time:utc", "implementation_date_time:utc",
        "proposed_supply_status:enum8", "supply_control_bits:map8"),
    (METERING, TO_SERVER, 0x0D): _layout(
        "metering/set-supply-status", "issuer_event_id:uint32", "supply_tamper_state:enum8",
        "supply_depletion_state:enum8", "supply_uncontrolled_flow_state:enum8",
        "load_limit_supply_state:enum8"),
    (METERING, TO_SERVER, 0x0E): _layout(
        "metering/set-uncontrolled-flow-threshold", "provider_id:uint32",
        "issuer_event_id:uint32", "uncontrolled_flow_threshold:uint16", "unit_of_measure:enum8",
        "multiplier:uint16", "divisor:uint16", "stabilisation_period:uint8",
        "measurement_period:uint16"),
    (METERING, TO_CLIENT, 0x06): _layout(
        "metering/publish-snapshot", "snapshot_id:uint32", "snapshot_time:utc",
        "total_snapshots_found:uint8", "command_index:uint8", "total_number_of_commands:uint8",
        "snapshot_cause:map32", "snapshot_payload_type:enum8",
        Variant("snapshot_sub_payload", "snapshot_payload_type", SNAPSHOT_SUB_PAYLOADS)),
    (METERING, TO_CLIENT, 0x07): _layout(
        "metering/get-sampled-data-response", "sample_id:uint16", "sample_start_time:utc",
        "sample_type:enum8", "sample_request_interval:uint16", "number_of_samples:uint16",
        Repeat("samples", _f("sample:uint24"), count="number_of_samples")),
    (METERING, TO_CLIENT, 0x0C): _layout(
        "metering/supply-status-response", "provider_id:uint32", "issuer_event_id:uint32",
        "implementation_date_time:utc", "supply_status:enum8"),
    (METERING, TO_CLIENT, 0x0D): _layout("metering/start-sampling-response", "sample_id:uint16"),
    # Messaging cluster (SE 1.4 §D.5)
    (MESSAGING, TO_CLIENT, 0x00): _layout(
        "messaging/display-message", "message_id:uint32", "message_control:map8",
        "start_time:utc", "duration_in_minutes:uint16", "message:string",
        Trailing("extended_message_control", "map8")),
    # Prepayment cluster (SE 1.4 §D.7)
    (PREPAYMENT, TO_SERVER, 0x00): _layout(
        "prepayment/select-available-emergency-credit", "command_issue_date_time:utc",
        "originating_device:enum8"),
    (PREPAYMENT, TO_SERVER, 0x02): _layout(
        "prepayment/change-debt", "issuer_event_id:uint32", "debt_label:octstr",
        "debt_amount:int32", "debt_recovery_method:enum8", "debt_amount_type:enum8",
        "debt_recovery_start_time:utc", "debt_recovery_collection_time:uint16",
        "debt_recovery_frequency:enum8", "debt_recovery_amount:int32",
        "debt_recovery_balance_percentage:uint16"),
    (PREPAYMENT, TO_SERVER, 0x03): _layout(
        "prepayment/emergency-credit-setup", "issuer_event_id:uint32", "start_time:utc",
        "emergency_credit_limit:uint32", "emergency_credit_threshold:uint32"),
    (PREPAYMENT, TO_SERVER, 0x04): _layout(
        "prepayment/consumer-top-up", "originating_device:enum8", "top_up_code:octstr"),
    (PREPAYMENT, TO_SERVER, 0x05): _layout(
        "prepayment/credit-adjustment", "issuer_event_id:uint32", "start_time:utc",
        "credit_adjustment_type:enum8", "credit_adjustment_value:int32"),
    (PREPAYMENT, TO_SERVER, 0x06): _layout(
        "prepayment/change-payment-mode", "provider_id:uint32", "issuer_event_id:uint32",
        "implementation_date_time:utc", "proposed_payment_control_configuration:map16",
        "cut_off_value:int32"),
    (PREPAYMENT, TO_SERVER, 0x07): _layout(
        "prepayment/get-prepay-snapshot", "earliest_start_time:utc", "latest_end_time:utc",
        "snapshot_offset:uint8", "snapshot_cause:map32"),
    (PREPAYMENT, TO_SERVER, 0x08): _layout(
        "prepayment/get-top-up-log", "latest_end_time:utc", "number_of_records:uint8"),
    (PREPAYMENT, TO_SERVER, 0x09): _layout(
        "prepayment/set-low-credit-warning-level", "low_credit_warning_level:uint32"),
    (PREPAYMENT, TO_SERVER, 0x0A): _layout(
        "prepayment/get-debt-repayment-log", "latest_end_time:utc", "number_of_debts:uint8",
        "debt_type:enum8"),
    (PREPAYMENT, TO_SERVER, 0x0B): _layout(
        "prepayment/set-maximum-credit-limit", "provider_id:uint32", "issuer_event_id:uint32",
        "implementation_date_time:utc", "maximum_credit_level:uint32",
        "maximum_credit_per_top_up:uint32"),
    (PREPAYMENT, TO_SERVER, 0x0C): _layout(
        "prepayment/set-overall-debt-cap", "provider_id:uint32", "issuer_event_id:uint32",
        "implementation_date_time:utc", "overall_debt_cap:int32"),
    (PREPAYMENT, TO_CLIENT, 0x01): _layout(
        "prepayment/publish-prepay-snapshot", "snapshot_id:uint32", "snapshot_time:utc",
        "total_snapshots_found:uint8", "command_index:uint8", "total_number_of_commands:uint8",
        "snapshot_cause:map32", "snapshot_payload_type:enum8",
        Variant("snapshot_sub_payload", "snapshot_payload_type", PREPAY_SNAPSHOT_SUB_PAYLOADS)),
    (PREPAYMENT, TO_CLIENT, 0x02): _layout(
        "prepayment/change-payment-mode-response", "friendly_credit:map8",
        "friendly_credit_calendar_id:uint32", "emergency_credit_limit:uint32",
        "emergency_credit_threshold:uint32"),
    (PREPAYMENT, TO_CLIENT, 0x03): _layout(
        "prepayment/consumer-top-up-response", "result_type:enum8", "top_up_value:int32",
        "source_of_top_up:enum8", "credit_remaining:int32"),
    (PREPAYMENT, TO_CLIENT, 0x05): _layout(
        "prepayment/publish-top-up-log", "command_index:uint8", "total_number_of_commands:uint8",
        Repeat("top_up_payload", _f("top_up_code:octstr", "top_up_amount:int32",
                                     "top_up_time:utc"))),
    (PREPAYMENT, TO_CLIENT, 0x06): _layout(
        "prepayment/publish-debt-log", "command_index:uint8", "total_number_of_commands:uint8",
        Repeat("debt_payload", _f("collection_time:utc", "amount_collected:uint32",
                                   "debt_type:enum8", "outstanding_debt:uint32"))),
    # Calendar cluster (SE 1.4 §D.9)
    (CALENDAR, TO_SERVER, 0x00): _layout(
        "calendar/get-calendar", "earliest_start_time:utc", "min_issuer_event_id:uint32",
        "number_of_calendars:uint8", "calendar_type:enum8", "provider_id:uint32"),
    (CALENDAR, TO_SERVER, 0x01): _layout(
        "calendar/get-day-profiles", "provider_id:uint32", "issuer_calendar_id:uint32",
        "start_day_id:uint8", "number_of_days:uint8"),
    (CALENDAR, TO_SERVER, 0x02): _layout(
        "calendar/get-week-profiles", "provider_id:uint32", "issuer_calendar_id:uint32",
        "start_week_id:uint8", "number_of_weeks:uint8"),
    (CALENDAR, TO_SERVER, 0x03): _layout(
        "calendar/get-seasons", "provider_id:uint32", "issuer_calendar_id:uint32"),
    (CALENDAR, TO_SERVER, 0x04): _layout(
        "calendar/get-special-days", "start_time:utc", "number_of_events:uint8",
        "calendar_type:enum8", "provider_id:uint32", "issuer_calendar_id:uint32"),
    (CALENDAR, TO_CLIENT, 0x00): _layout(
        "calendar/publish-calendar", "provider_id:uint32", "issuer_event_id:uint32",
        "issuer_calendar_id:uint32", "start_time:utc", "calendar_type:enum8",
        "calendar_time_reference:uint8", "calendar_name:string", "number_of_seasons:uint8",
        "number_of_week_profiles:uint8", "number_of_day_profiles:uint8"),
    (CALENDAR, TO_CLIENT, 0x01): _layout(
        "calendar/publish-day-profile", "provider_id:uint32", "issuer_event_id:uint32",
        "issuer_calendar_id:uint32", "day_id:uint8", "total_number_of_schedule_entries:uint8",
        "command_index:uint8", "total_number_of_commands:uint8", "calendar_type:enum8",
        Repeat("day_schedule_entries", _f("start_time:uint16", "price_tier:uint8"))),
    (CALENDAR, TO_CLIENT, 0x02): _layout(
        "calendar/publish-week-profile", "provider_id:uint32", "issuer_event_id:uint32",
        "issuer_calendar_id:uint32", "week_id:uint8", "day_id_ref_monday:uint8",
        "day_id_ref_tuesday:uint8", "day_id_ref_wednesday:uint8", "day_id_ref_thursday:uint8",
        "day_id_ref_friday:uint8", "day_id_ref_saturday:uint8", "day_id_ref_sunday:uint8"),
    (CALENDAR, TO_CLIENT, 0x03): _layout(
        "calendar/publish-seasons", "provider_id:uint32", "issuer_event_id:uint32",
        "issuer_calendar_id:uint32", "command_index:uint8", "total_number_of_commands:uint8",
        Repeat("season_entries", _f("season_start_date:date", "week_id_ref:uint8"))),
    (CALENDAR, TO_CLIENT, 0x04): _layout(
        "calendar/publish-special-days", "provider_id:uint32", "issuer_event_id:uint32",
        "issuer_calendar_id:uint32", "start_time:utc", "calendar_type:enum8",
        "total_number_of_special_days:uint8", "command_index:uint8",
        "total_number_of_commands:uint8",
        Repeat("special_day_entries", _f("special_day_date:date", "day_id_ref:uint8"))),
    # Device Management cluster (SE 1.4 §D.10)
    (DEVICE_MANAGEMENT, TO_SERVER, 0x04): _layout(
        "device-management/report-event-configuration", "command_index:uint8",
        "total_commands:uint8",
        Repeat("event_configuration_payload", _f("event_id:uint16",
                                                  "event_configuration:map8"))),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x00): _layout(
        "device-management/publish-change-of-tenancy", "provider_id:uint32",
        "issuer_event_id:uint32", "tariff_type:map8", "implementation_date_time:utc",
        "proposed_tenancy_change_control:map32"),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x01): _layout(
        "device-management/publish-change-of-supplier", "current_provider_id:uint32",
        "issuer_event_id:uint32", "tariff_type:map8", "proposed_provider_id:uint32",
        "provider_change_implementation_time:utc", "provider_change_control:map32",
        "proposed_provider_name:string", "proposed_provider_contact_details:string"),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x02): _layout(
        "device-management/request-new-password-response", "issuer_event_id:uint32",
        "implementation_date_time:utc", "duration_in_minutes:uint16", "password_type:enum8",
        "password:octstr"),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x03): _layout(
        "device-management/update-site-id", "issuer_event_id:uint32", "site_id_time:utc",
        "provider_id:uint32", "site_id:string"),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x04): _layout(
        "device-management/set-event-configuration", "issuer_event_id:uint32",
        "start_date_time:utc", "event_configuration:map8", "configuration_control:enum8",
        "number_of_events:uint8",
        Repeat("event_ids", _f("event_id:uint16"), count="number_of_events")),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x05): _layout(
        "device-management/get-event-configuration", "event_id:uint16"),
    (DEVICE_MANAGEMENT, TO_CLIENT, 0x06): _layout(
        "device-management/update-cin", "issuer_event_id:uint32",
        "cin_implementation_time:utc", "provider_id:uint32", "customer_id_number:string"),
    # Events cluster (SE 1.4 §D.11)
    (EVENTS, TO_SERVER, 0x00): _layout(
        "events/get-event-log", "event_control_log_id:map8", "event_id:uint16",
        "start_time:utc", "end_time:utc", "number_of_events:uint8", "event_offset:uint16"),
    (EVENTS, TO_SERVER, 0x01): _layout("events/clear-event-log-request", "log_id:map8"),
    (EVENTS, TO_CLIENT, 0x01): _layout(
        "events/publish-event-log", "total_number_of_matching_events:uint16",
        "command_index:uint8", "total_commands:uint8", "log_payload_control:map8",
        Repeat("log_payload", _f("log_id:map8", "event_id:uint16", "event_time:utc",
                                  "event_data:octstr"))),
    (EVENTS, TO_CLIENT, 0x02): _layout(
        "events/clear-event-log-response", "cleared_events_logs:map8"),
}

BY_NAME: dict[str, Layout] = {layout.name: layout for layout in LAYOUTS.values()}


@dataclass(frozen=True)
class _Case:
    """The decoded value of a `Variant`: its fields in order."""

    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class ClusterCommand(ZclCommandPayload):
    """A modelled cluster-specific command: its layout name and field values in order."""

    TYPE = "cluster-command"
    command: str
    fields: tuple[tuple[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        out = {"@type": self.TYPE, "command": self.command, "fields": _fields_json(self.fields)}
        notes = self.notes()
        if notes:
            out[NOTES] = notes
        return out

    def notes(self) -> dict[str, str]:
        """ZigBee UTC times of the command's top-level fields, as ISO 8601."""
        layout = BY_NAME.get(self.command)
        utc = {i[0] for i in layout.items if isinstance(i, tuple) and i[1] == "utc"} if layout else set()
        out: dict[str, str] = {}
        for name, value in self.fields:
            if name in utc and isinstance(value, int):
                text = zigbee_utc_text(value)
                if text:
                    out[name] = text
        return out

    @classmethod
    def _from_fields(cls, obj: dict[str, Any]) -> ClusterCommand:
        layout = BY_NAME.get(str(obj.get("command")))
        if layout is None:
            raise InvalidTree("command", f"no modelled cluster command {obj.get('command')!r}")
        unknown = sorted(set(obj) - {"@type", NOTES, "command", "fields"})
        if unknown:
            raise InvalidTree(layout.name, f"unknown field(s) {', '.join(unknown)}")
        values = obj.get("fields")
        if not isinstance(values, dict):
            raise InvalidTree(layout.name, "fields must be an object")
        return ClusterCommand(layout.name, _fields_from_json(layout.items, values, layout.name))

    def write(self, out: bytearray) -> None:
        layout = BY_NAME.get(self.command)
        if layout is None:
            raise InvalidTree("command", f"no modelled cluster command {self.command!r}")
        _write_items(layout.items, dict(self.fields), out, layout.name)


def _fields_json(values: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values:
        if isinstance(value, bytes):
            out[name] = value.hex()
        elif isinstance(value, _Case):
            out[name] = _fields_json(value.fields)
        elif isinstance(value, tuple):
            out[name] = [_fields_json(group) for group in value]
        else:
            out[name] = value
    return out


def _value_from_json(type_name: str, value: Any, where: str) -> Any:
    if type_name in _SIZES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidTree(where, "expected an integer")
        return value
    if type_name == "string":
        if not isinstance(value, str):
            raise InvalidTree(where, "expected text")
        return value
    if not isinstance(value, str):
        raise InvalidTree(where, "expected hex text")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise InvalidTree(where, f"bad hex {value!r:.40}") from exc


def _fields_from_json(items: tuple[Item, ...], obj: dict[str, Any], where: str
                      ) -> tuple[tuple[str, Any], ...]:
    names = {item[0] if isinstance(item, tuple) else item.name for item in items}
    unknown = sorted(set(obj) - names)
    if unknown:
        raise InvalidTree(where, f"unknown field(s) {', '.join(unknown)}")
    values: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, Repeat):
            groups = obj.get(item.name, [])
            if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
                raise InvalidTree(f"{where}.{item.name}", "expected a list of objects")
            values.append((item.name, tuple(
                _fields_from_json(item.fields, g, f"{where}.{item.name}") for g in groups)))
        elif isinstance(item, Trailing):
            if item.name in obj:
                values.append((item.name, _value_from_json(item.type, obj[item.name], item.name)))
        elif isinstance(item, Variant):
            raw = obj.get(item.name, "")
            case = item.cases.get(dict(values).get(item.selector, -1))
            if isinstance(raw, dict) and case is not None:
                values.append((item.name, _Case(_fields_from_json(case, raw, item.name))))
            else:
                values.append((item.name, _value_from_json("rest", raw, item.name)))
        else:
            name, type_name = item
            if name not in obj:
                raise InvalidTree(f"{where}.{name}", "missing")
            values.append((name, _value_from_json(type_name, obj[name], f"{where}.{name}")))
    return tuple(values)


# --- reading and writing one field -------------------------------------------------------


def _read_field(r: Reader, name: str, type_name: str) -> Any:
    if type_name in _SIZES:
        size, signed = _SIZES[type_name]
        return int.from_bytes(r.take(size, name), "little", signed=signed)
    if type_name in ("octstr", "string"):
        octets = r.take(r.u8(f"{name} length"), name)
        return octets.decode("latin-1") if type_name == "string" else octets
    if type_name == "date":
        return r.take(4, name)
    if type_name == "rest":
        return r.take(r.remaining, name)
    raise AssertionError(f"unknown field type {type_name}")


def _write_field(value: Any, type_name: str, out: bytearray, where: str) -> None:
    try:
        if type_name in _SIZES:
            size, signed = _SIZES[type_name]
            out += int(value).to_bytes(size, "little", signed=signed)
        elif type_name in ("octstr", "string"):
            octets = value.encode("latin-1") if type_name == "string" else bytes(value)
            if len(octets) > 0xFE:
                raise InvalidTree(where, f"{len(octets)} octets do not fit a ZCL string")
            out.append(len(octets))
            out += octets
        elif type_name == "date":
            if len(value) != 4:
                raise InvalidTree(where, "a ZCL date is 4 octets")
            out += value
        else:
            out += bytes(value)
    except InvalidTree:
        raise
    except (OverflowError, TypeError, ValueError, AttributeError, UnicodeEncodeError) as exc:
        raise InvalidTree(where, f"{value!r:.40} does not fit {type_name}") from exc


def _read_items(r: Reader, items: tuple[Item, ...]) -> tuple[tuple[str, Any], ...]:
    values: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, Repeat):
            groups: list[tuple[tuple[str, Any], ...]] = []
            if item.count is not None:
                count = dict(values)[item.count]
                for _ in range(count):
                    groups.append(_read_items(r, item.fields))
            else:
                while not r.at_end():
                    groups.append(_read_items(r, item.fields))
            values.append((item.name, tuple(groups)))
        elif isinstance(item, Trailing):
            if not r.at_end():
                values.append((item.name, _read_field(r, item.name, item.type)))
        elif isinstance(item, Variant):
            case = item.cases.get(dict(values)[item.selector])
            values.append((item.name, _read_field(r, item.name, "rest") if case is None
                           else _Case(_read_items(r, case))))
        else:
            values.append((item[0], _read_field(r, item[0], item[1])))
    return tuple(values)


def _write_items(items: tuple[Item, ...], values: dict[str, Any], out: bytearray,
                 where: str) -> None:
    for item in items:
        if isinstance(item, Repeat):
            groups = values.get(item.name, ())
            if item.count is not None and len(groups) != values.get(item.count):
                raise InvalidTree(f"{where}.{item.name}",
                                  f"{len(groups)} groups but {item.count} says {values.get(item.count)}")
            for group in groups:
                _write_items(item.fields, dict(group), out, f"{where}.{item.name}")
        elif isinstance(item, Trailing):
            if item.name in values:
                _write_field(values[item.name], item.type, out, f"{where}.{item.name}")
        elif isinstance(item, Variant):
            value = values.get(item.name, b"")
            case = item.cases.get(values.get(item.selector, -1))
            if isinstance(value, _Case):
                if case is None:
                    raise InvalidTree(f"{where}.{item.name}",
                                      f"{item.selector} names no modelled sub-payload")
                _write_items(case, dict(value.fields), out, f"{where}.{item.name}")
            else:
                _write_field(value, "rest", out, f"{where}.{item.name}")
        else:
            name, type_name = item
            if name not in values:
                raise InvalidTree(f"{where}.{name}", "missing")
            _write_field(values[name], type_name, out, f"{where}.{name}")


def read_cluster_command(cluster_id: int, command: int, server_to_client: bool,
                         r: Reader) -> ZclCommandPayload | None:
    """A modelled cluster-specific payload filling `r`, or None to keep the octets as they are."""
    layout = LAYOUTS.get((cluster_id, server_to_client, command))
    if layout is None:
        return None
    start = r.pos
    try:
        values = _read_items(r, layout.items)
    except GbcsError:
        values = None
    if values is None or not r.at_end():
        r.pos = start
        return None
    return ClusterCommand(layout.name, values)
