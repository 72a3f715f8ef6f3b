"""Which device operation serves each GBCS use case: the table the GBCS layer dispatches on.

GBCS names each command by use case (ECS17b, GCS01a, CCS01, ...). Each row gives the device
type the command is addressed to and the method of that device's model that executes it; the
GBCS layer decodes the command, calls `getattr(device, row.method)(...)` with the decoded
arguments and the time, and encodes the `Result` (or the refusal) as the GBCS response.
Reads of GSME data are answered by the GPF from its mirror, so those rows name the GPF.
"""

from __future__ import annotations

from dataclasses import dataclass

from opendcc.devices.device import DeviceType


@dataclass(frozen=True, slots=True)
class UseCase:
    """A GBCS use case served by an emulated device."""

    code: str
    device: DeviceType
    method: str
    changes_state: bool


_E, _G, _C, _P, _M = DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF, DeviceType.PPMID

_ROWS: tuple[tuple[str, DeviceType, str, bool], ...] = (
    # Tariffs and prices
    ("ECS01a", _E, "update_tariff", True),
    ("ECS01b", _E, "update_tariff_prices", True),
    ("ECS01c", _E, "update_secondary_tariff", True),
    ("ECS01d", _E, "update_secondary_prices", True),
    ("GCS01a", _G, "update_tariff", True),
    ("GCS01b", _G, "update_tariff_prices", True),
    ("ECS24", _E, "read_tariff", False),
    ("ECS24b", _E, "read_secondary_tariff", False),
    ("GCS21f", _G, "read_tariff", False),
    # Prepayment
    ("ECS02", _E, "set_payment_mode", True),
    ("ECS03", _E, "set_payment_mode", True),
    ("GCS02", _G, "set_payment_mode", True),
    ("GCS03", _G, "set_payment_mode", True),
    ("ECS04a", _E, "adjust_meter_balance", True),
    ("GCS40a", _G, "adjust_meter_balance", True),
    ("ECS04b", _E, "adjust_meter_balance", True),
    ("GCS40c", _G, "adjust_meter_balance", True),
    ("GCS40d", _G, "adjust_meter_balance", True),
    ("GCS40b", _G, "adjust_meter_balance", True),
    ("ECS07", _E, "update_debt", True),
    ("GCS04", _G, "update_debt", True),
    ("ECS08a", _E, "update_prepayment_configuration", True),
    ("ECS08", _E, "update_prepayment_configuration", True),
    ("GCS05", _G, "update_prepayment_configuration", True),
    ("ECS09", _E, "activate_emergency_credit", True),
    ("GCS06", _G, "activate_emergency_credit", True),
    ("CS01a", _E, "top_up", True),
    ("CS01b", _G, "top_up", True),
    ("ECS19", _E, "read_prepayment_registers", False),
    ("GCS14", _G, "read_prepayment_registers", False),
    ("ECS82", _E, "read_meter_balance", False),
    ("GCS60", _G, "read_meter_balance", False),
    # Registers and logs
    ("ECS17a", _E, "read_export_registers", False),
    ("ECS22a", _E, "read_export_half_hour_profile", False),
    ("ECS21c", _E, "read_export_daily_read_log", False),
    ("ECS17b", _E, "read_instantaneous_import_registers", False),
    ("ECS17c", _E, "read_instantaneous_power", False),
    ("ECS17d", _E, "read_instantaneous_import_registers", False),
    ("ECS17e", _E, "read_instantaneous_import_registers", False),
    ("GCS13a", _P, "read_gsme_import_registers", False),
    ("GCS13b", _P, "read_gsme_import_registers", False),
    ("GCS13c", _P, "read_gsme_import_registers", False),
    ("ECS21a", _E, "read_daily_read_log", False),
    ("GCS16a", _P, "read_gsme_daily_read_log", False),
    ("ECS22b", _E, "read_half_hour_profile", False),
    ("GCS17", _P, "read_gsme_half_hour_profile", False),
    ("ECS66", _E, "read_daily_consumption_log", False),
    ("GCS61", _G, "read_daily_consumption_log", False),
    ("ECS35a", _E, "read_event_log", False),
    ("ECS35b", _E, "read_security_log", False),
    ("CS10a", _G, "read_event_log", False),
    ("CS10b", _G, "read_security_log", False),
    ("ECS15a", _E, "clear_event_log", True),
    ("CS11", _G, "clear_event_log", True),
    # Supply
    ("ECS42", _E, "enable_supply", True),
    ("ECS43", _E, "disable_supply", True),
    ("GCS32", _G, "disable_supply", True),
    ("ECS44", _E, "arm_supply", True),
    ("GCS39", _G, "arm_supply", True),
    ("ECS45", _E, "read_supply_status", False),
    ("GCS33", _G, "read_supply_status", False),
    ("ECS81", _E, "set_supply_tamper_state", True),
    ("GCS24a", _G, "set_supply_tamper_state", True),
    ("GCS24", _G, "set_supply_tamper_state", True),
    # Load limiting
    ("ECS27", _E, "read_load_limit_data", False),
    ("ECS28a", _E, "set_load_limit_configuration", True),
    ("ECS28b", _E, "reset_load_limit_counter", True),
    # Maximum demand, export MPAN, ESME configuration (forms authored from GBCS: no RTDS vector)
    ("ECS37", _E, "set_max_demand_period", True),
    ("ECS57", _E, "reset_max_demand", True),
    ("ECS39b", _E, "set_export_mpan", True),
    ("ECS48", _E, "set_daily_block_counter_reset", True),
    ("ECS26c", _E, "read_randomisation", False),
    ("ECS29a", _E, "set_voltage_configuration", True),
    ("ECS29b", _E, "set_voltage_configuration", True),
    ("ECS29c", _E, "set_voltage_configuration", True),
    ("ECS29d", _E, "set_voltage_configuration", True),
    # Configuration, clock, identity
    ("ECS39a", _E, "set_mpxn", True),
    ("GCS41", _G, "set_mpxn", True),
    ("ECS40", _E, "read_mpxn", False),
    ("GCS46", _G, "read_mpxn", False),
    ("ECS70", _E, "set_clock", True),
    ("GCS28", _G, "set_clock", True),
    ("GCS23", _G, "set_conversion_factors", True),
    ("GCS25a", _G, "set_billing_calendar", True),
    ("DBCH05", _C, "request_channel_scan", True),
    ("CS02c", _E, "issue_security_credentials", True),
    # Firmware
    ("ECS52", _E, "read_firmware_version", False),
    ("GCS38", _G, "read_firmware_version", False),
    ("CS08", _M, "read_firmware_version", False),
    ("CS05a", _E, "distribute_firmware", True),
    ("CS05b", _G, "distribute_firmware", True),
    ("CS06", _E, "activate_firmware", True),
    # Reads of data the models keep only in part: the Response form is GBCS's, values the
    # model does not keep are neutral (devices/gbcs `values.py`).
    ("ECS18a", _E, "read_instantaneous_power", False),
    ("ECS18b", _E, "read_instantaneous_power", False),
    ("ECS21b", _E, "read_daily_read_log", False),
    ("ECS22c", _E, "read_half_hour_profile", False),
    ("ECS23", _E, "read_instantaneous_power", False),
    ("ECS26a", _E, "read_prepayment_registers", False),
    ("ECS26d", _E, "read_tariff", False),
    ("ECS26e", _E, "read_firmware_version", False),
    ("ECS26f", _E, "read_load_limit_data", False),
    ("ECS26j", _E, "read_prepayment_registers", False),
    ("ECS26k", _E, "read_instantaneous_power", False),
    ("ECS26n", _C, "read_firmware_version", False),
    ("ECS35c", _C, "read_event_log", False),
    ("ECS35d", _C, "read_security_log", False),
    ("ECS35e", _E, "read_event_log", False),
    ("ECS35f", _E, "read_event_log", False),
    ("ECS35g", _E, "read_event_log", False),
    ("ECS61c", _E, "read_supply_status", False),
    ("ECS61d", _E, "read_supply_status", False),
    ("ECS61e", _E, "read_supply_status", False),
    ("GCS15c", _P, "read_gsme_daily_read_log", False),
    ("GCS15e", _P, "read_gsme_daily_read_log", False),
    ("GCS21d", _G, "read_tariff", False),
    ("GCS21e", _G, "read_firmware_version", False),
    ("GCS21j", _G, "read_prepayment_registers", False),
    ("GCS60a", _G, "read_meter_balance", False),
    # HAN: hub device log, joining
    ("CCS01", _C, "add_device_to_device_log", True),
    ("CCS02", _C, "remove_device_from_device_log", True),
    ("CCS03", _C, "restore_device_log", True),
    ("CCS06", _C, "read_device_log", False),
    ("CCS07", _C, "read_device_log", False),
    ("GCS59", _P, "restore_device_log", True),
    ("GCS62", _P, "read_device_log", False),
    ("CS03A1", _E, "join_device", True),
    ("CS03A2", _E, "join_device", True),
    ("CS03B", _E, "join_device", True),
    ("CS03C", _G, "join_device", True),
    ("CS04AC", _E, "unjoin_device", True),
    ("CS04B", _E, "unjoin_device", True),
    ("CS07", _E, "read_device_join_details", False),
    # Log reads answered by devices.gbcs.authored_more (the rows there, from the register)
    ("ECS20b", _E, "read_daily_read_log", False),
    ("ECS20c", _E, "read_daily_read_log", False),
    ("GCS16b", _G, "read_prepayment_registers", False),
    ("GCS15d", _G, "read_prepayment_registers", False),
)

#: GBCS use case code -> the device operation serving it.
USE_CASES: dict[str, UseCase] = {code: UseCase(code, d, m, w) for code, d, m, w in _ROWS}


def use_case(code: str) -> UseCase:
    """The row for `code`; KeyError names the use cases not emulated yet."""
    try:
        return USE_CASES[code]
    except KeyError:
        raise KeyError(f"GBCS use case {code} is not emulated by opendcc.devices yet") from None
