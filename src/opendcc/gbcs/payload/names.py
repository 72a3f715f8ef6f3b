"""Names for codes the payloads carry, shown beside the numbers in JSON under "#".

Tables only: COSEM interface classes (Blue Book §4), xDLMS result enumerations (Green Book
§9.5), ZCL status codes (ZCL r6 Table 2-12), Smart Energy cluster ids, and the one class GBCS
adds (9000, GBCS extended data).
"""

from __future__ import annotations

import datetime as dt

COSEM_CLASSES: dict[int, str] = {
    1: "Data", 3: "Register", 4: "Extended register", 5: "Demand register",
    7: "Profile generic", 8: "Clock", 9: "Script table", 10: "Schedule",
    11: "Special days table", 15: "Association LN", 17: "SAP assignment",
    18: "Image transfer", 20: "Activity calendar", 21: "Register monitor",
    22: "Single action schedule", 30: "Data protection", 40: "Push setup",
    61: "Register table", 62: "Compact data", 63: "Status mapping", 64: "Security setup",
    70: "Disconnect control", 71: "Limiter", 101: "ZigBee SAS startup",
    104: "ZigBee network control", 111: "Account", 112: "Credit", 113: "Charge",
    115: "Token gateway", 9000: "GBCS extended data",
}

DATA_ACCESS_RESULTS: dict[int, str] = {
    0: "success", 1: "hardware-fault", 2: "temporary-failure", 3: "read-write-denied",
    4: "object-undefined", 9: "object-class-inconsistent", 11: "object-unavailable",
    12: "type-unmatched", 13: "scope-of-access-violated", 14: "data-block-unavailable",
    15: "long-get-aborted", 16: "no-long-get-in-progress", 17: "long-set-aborted",
    18: "no-long-set-in-progress", 19: "data-block-number-invalid", 250: "other-reason",
}

ACTION_RESULTS: dict[int, str] = {
    0: "success", 1: "hardware-fault", 2: "temporary-failure", 3: "read-write-denied",
    4: "object-undefined", 9: "object-class-inconsistent", 11: "object-unavailable",
    12: "type-unmatched", 13: "scope-of-access-violated", 14: "data-block-unavailable",
    15: "long-action-aborted", 16: "no-long-action-in-progress", 250: "other-reason",
}

ZCL_STATUS: dict[int, str] = {
    0x00: "SUCCESS", 0x01: "FAILURE", 0x7E: "NOT_AUTHORIZED", 0x7F: "RESERVED_FIELD_NOT_ZERO",
    0x80: "MALFORMED_COMMAND", 0x81: "UNSUP_CLUSTER_COMMAND", 0x82: "UNSUP_GENERAL_COMMAND",
    0x83: "UNSUP_MANUF_CLUSTER_COMMAND", 0x84: "UNSUP_MANUF_GENERAL_COMMAND",
    0x85: "INVALID_FIELD", 0x86: "UNSUPPORTED_ATTRIBUTE", 0x87: "INVALID_VALUE",
    0x88: "READ_ONLY", 0x89: "INSUFFICIENT_SPACE", 0x8A: "DUPLICATE_EXISTS",
    0x8B: "NOT_FOUND", 0x8C: "UNREPORTABLE_ATTRIBUTE", 0x8D: "INVALID_DATA_TYPE",
    0x8E: "INVALID_SELECTOR", 0x8F: "WRITE_ONLY", 0x90: "INCONSISTENT_STARTUP_STATE",
    0x91: "DEFINED_OUT_OF_BAND", 0x92: "INCONSISTENT", 0x93: "ACTION_DENIED",
    0x94: "TIMEOUT", 0x95: "ABORT", 0x96: "INVALID_IMAGE", 0x97: "WAIT_FOR_DATA",
    0x98: "NO_IMAGE_AVAILABLE", 0x99: "REQUIRE_MORE_IMAGE", 0x9A: "NOTIFICATION_PENDING",
    0xC0: "HARDWARE_FAILURE", 0xC1: "SOFTWARE_FAILURE", 0xC2: "CALIBRATION_ERROR",
    0xC3: "UNSUPPORTED_CLUSTER",
}

ZCL_CLUSTERS: dict[int, str] = {
    0x0000: "Basic", 0x000A: "Time", 0x0019: "OTA Upgrade", 0x0700: "Price",
    0x0701: "Demand Response and Load Control", 0x0702: "Metering", 0x0703: "Messaging",
    0x0704: "Tunneling", 0x0705: "Prepayment", 0x0707: "Calendar",
    0x0708: "Device Management", 0x0709: "Events", 0x0800: "Key Establishment",
}

ZCL_PROFILE_WIDE_COMMANDS: dict[int, str] = {
    0x00: "Read Attributes", 0x01: "Read Attributes Response", 0x02: "Write Attributes",
    0x03: "Write Attributes Undivided", 0x04: "Write Attributes Response",
    0x05: "Write Attributes No Response", 0x06: "Configure Reporting",
    0x07: "Configure Reporting Response", 0x08: "Read Reporting Configuration",
    0x09: "Read Reporting Configuration Response", 0x0A: "Report Attributes",
    0x0B: "Default Response", 0x0C: "Discover Attributes",
    0x0D: "Discover Attributes Response",
}

ZIGBEE_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def zigbee_utc_text(seconds: int) -> str | None:
    """ZigBee UTCTime (seconds since 2000-01-01) as ISO 8601.

    None for 0 (which SE start times use for "now") and for the top values that SE and GBCS
    reserve (0xFFFFFFFF invalid, 0xFFFFFFFE and below as markers), which are not dates.
    """
    if seconds == 0 or seconds >= 0xFFFFFFF0:
        return None
    return (ZIGBEE_EPOCH + dt.timedelta(seconds=seconds)).isoformat()


def cosem_date_time_text(octets: bytes) -> str | None:
    """Blue Book §4.1.6.1 date-time (12 octets) as text, wildcards as '*'; None if not one."""
    if len(octets) != 12:
        return None
    year = int.from_bytes(octets[0:2], "big")
    month, day, _weekday, hour, minute, second, hundredths = octets[2:9]
    deviation = int.from_bytes(octets[9:11], "big", signed=True)
    plausible = (month in (*range(1, 13), 0xFD, 0xFE, 0xFF)
                 and day in (*range(1, 32), 0xFD, 0xFE, 0xFF)
                 and (hour < 24 or hour == 0xFF) and (minute < 60 or minute == 0xFF)
                 and (second < 60 or second == 0xFF) and (hundredths < 100 or hundredths == 0xFF))
    if not plausible:
        return None

    def part(value: int, width: int, wildcard: int) -> str:
        return "*" * width if value == wildcard else f"{value:0{width}d}"

    text = (f"{part(year, 4, 0xFFFF)}-{part(month, 2, 0xFF)}-{part(day, 2, 0xFF)}"
            f"T{part(hour, 2, 0xFF)}:{part(minute, 2, 0xFF)}:{part(second, 2, 0xFF)}")
    if deviation != -0x8000:
        text += f" deviation {deviation} min"
    return text


def _attributes() -> dict[tuple[int, int], str]:
    """Smart Energy 1.4 attribute names GBCS reads and writes (Basic, Price, Metering,
    Prepayment), by (cluster id, attribute id)."""
    table: dict[tuple[int, int], str] = {}
    basic = ["ZCLVersion", "ApplicationVersion", "StackVersion", "HWVersion",
             "ManufacturerName", "ModelIdentifier", "DateCode", "PowerSource"]
    table.update({(0x0000, i): name for i, name in enumerate(basic)})
    price = {
        0x0200: "StartOfBlockPeriod", 0x0201: "BlockPeriodDuration",
        0x0202: "ThresholdMultiplier", 0x0203: "ThresholdDivisor", 0x0300: "CommodityType",
        0x0301: "StandingCharge", 0x0302: "ConversionFactor",
        0x0303: "ConversionFactorTrailingDigit", 0x0304: "CalorificValue",
        0x0305: "CalorificValueUnit", 0x0306: "CalorificValueTrailingDigit",
        0x0610: "TariffLabel", 0x0611: "NumberOfPriceTiersInUse",
        0x0612: "NumberOfBlockThresholdsInUse", 0x0613: "TierBlockMode",
        0x0615: "UnitOfMeasure", 0x0616: "Currency", 0x0617: "PriceTrailingDigit",
    }
    price.update({0x0100 + b: f"Block{b + 1}Threshold" for b in range(15)})
    for tier in range(16):
        for block in range(16):
            prefix = "NoTier" if tier == 0 else f"Tier{tier}"
            price[0x0400 + 16 * tier + block] = f"{prefix}Block{block + 1}Price"
    table.update({(0x0700, i): name for i, name in price.items()})
    metering = {
        0x0000: "CurrentSummationDelivered", 0x0001: "CurrentSummationReceived",
        0x0014: "SupplyStatus", 0x0200: "Status", 0x0205: "RemainingBatteryLifeInDays",
        0x0206: "CurrentMeterID", 0x0300: "UnitOfMeasure", 0x0301: "Multiplier",
        0x0302: "Divisor", 0x0303: "SummationFormatting", 0x0306: "MeteringDeviceType",
        0x0307: "SiteID", 0x0308: "MeterSerialNumber", 0x0400: "InstantaneousDemand",
        0x0607: "SupplyTamperState", 0x0608: "SupplyDepletionState",
        0x0A00: "BillToDateDelivered", 0x0A01: "BillToDateTimeStampDelivered",
        0x0B10: "UncontrolledFlowThreshold", 0x0B11: "UncontrolledFlowThresholdUnitOfMeasure",
        0x0B12: "UncontrolledFlowMultiplier", 0x0B13: "UncontrolledFlowDivisor",
        0x0B14: "FlowStabilisationPeriod", 0x0B15: "FlowMeasurementPeriod",
    }
    metering.update({0x0100 + 2 * t: f"CurrentTier{t + 1}SummationDelivered" for t in range(48)})
    for tier in range(16):
        for block in range(16):
            prefix = "NoTier" if tier == 0 else f"Tier{tier}"
            metering[0x0700 + 16 * tier + block] = f"Current{prefix}Block{block + 1}SummationDelivered"
    table.update({(0x0702, i): name for i, name in metering.items()})
    prepayment = {
        0x0000: "PaymentControlConfiguration", 0x0001: "CreditRemaining",
        0x0002: "EmergencyCreditRemaining", 0x0003: "CreditStatus",
        0x0004: "CreditRemainingTimeStamp", 0x0005: "AccumulatedDebt",
        0x0006: "OverallDebtCap", 0x0010: "EmergencyCreditLimitAllowance",
        0x0011: "EmergencyCreditThreshold", 0x0020: "TotalCreditAdded",
        0x0021: "MaxCreditLimit", 0x0022: "MaxCreditPerTopUp", 0x0030: "FriendlyCreditWarning",
        0x0031: "LowCreditWarningLevel", 0x0032: "IHDLowCreditWarningLevel",
        0x0033: "InterruptSuspendTime", 0x0034: "RemainingFriendlyCreditTime",
        0x0035: "NextFriendlyCreditPeriod", 0x0040: "CutOffValue", 0x0080: "TokenCarrierID",
    }
    debt_fields = {0x0: "DebtLabel", 0x1: "DebtAmount", 0x2: "DebtRecoveryMethod",
                   0x3: "DebtRecoveryStartTime", 0x4: "DebtRecoveryCollectionTime",
                   0x6: "DebtRecoveryFrequency", 0x7: "DebtRecoveryAmount",
                   0x9: "DebtRecoveryTopUpPercentage"}
    for debt in (1, 2, 3):
        prepayment.update({0x0200 + 16 * debt + k: f"{name}{debt}" for k, name in debt_fields.items()})
    table.update({(0x0705, i): name for i, name in prepayment.items()})
    return table


ZCL_ATTRIBUTES: dict[tuple[int, int], str] = _attributes()
