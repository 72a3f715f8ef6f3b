"""The arguments of each use case's device operation, read from the command's payload.

One row per GBCS use case: a function from the decoded command (payload JSON view, the
device, the time) to the keyword arguments of the device method `use_cases.py` names. The
DLMS rows find values by COSEM class, OBIS code and attribute/method (GBCS §7 command
structures, DLMS Blue Book); the ZCL rows by cluster command field (Smart Energy 1.4); the
ASN.1 rows by the GBCS structure names the payload codec gives. A value that cannot be read
raises `InvalidArgument`, which the device answers with a failure Response.

Money: the device models count 1/100 p (10^-4 of the pound). DLMS charge tables carry their
own price scale (RTDS uses -5), which prices are converted from; DLMS balances use -5,
hence `MONEY_SCALE`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from opendcc.devices.chf import HanEntry
from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import InvalidArgument
from opendcc.devices.esme import LoadLimitConfig
from opendcc.devices.gsme import ConversionFactors
from opendcc.devices.prepayment import Debt, PaymentMode, PrepaymentConfig, Utrn
from opendcc.devices.supply import SupplyTamperState
from opendcc.devices.tariff import MAX_TOU_RATES, Tariff
from opendcc.ids import EUI64, MPxN

#: GBCS DLMS balances (10^-5 currency units) per device money unit (1/100 p = 10^-4 pounds).
MONEY_SCALE = 10
#: The price scale (power of ten of the currency unit) of device money: 1/100 p.
DEVICE_PRICE_SCALE = -4
#: Charge objects (class 113) of the primary and secondary element (GBCS ECS01a-d, ECS24).
PRIMARY_PRICES = "0-0:19.20.0.255"
STANDING_CHARGE = "0-0:19.20.4.255"
SECONDARY_PRICES = "0-0:19.20.5.255"
#: Charge objects of the time-based debts 1 and 2 and the payment-based debt (ECS07).
DEBT_1, DEBT_2, DEBT_3 = "0-0:19.20.1.255", "0-0:19.20.2.255", "0-0:19.20.3.255"
#: Smart Energy Debt Recovery Frequency -> periods per day (hourly, daily, weekly).
_PER_DAY = {0: 24.0, 1: 1.0, 2: 1 / 7}
#: Digits of an MPAN core.
MPAN_DIGITS = 13
#: The CS03 join method and role whose command must carry the other device's certificate.
JOIN_NEEDS_CERTIFICATE = 3
#: Log reads run over this window before the command time (the command's range is not read).
LOG_WINDOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What an argument reader sees: the command payload view, its originator counter, the
    device it is addressed to, where the device's estate keeps other devices, and the time."""

    view: Any
    counter: int
    device: Device
    now: datetime
    lookup: Callable[[str], Device | None]


# --- reading the payload view ---------------------------------------------------------------

def dlms_items(view: Any) -> Iterator[tuple[int, str, int, Any]]:
    """(class_id, OBIS, attribute or method id, data) for each request of an access-request."""
    specs = view.get("access_request_list_of_specification", []) if isinstance(view, dict) else []
    data = view.get("access_request_list_of_data", [])
    for spec, value in zip(specs, data, strict=False):
        desc = spec.get("cosem_attribute_descriptor") or spec.get("cosem_method_descriptor") or {}
        yield (desc.get("class_id", -1), desc.get("instance_id", ""),
               desc.get("attribute_id", desc.get("method_id", -1)), value)


def dlms_value(view: Any, class_id: int, obis: str, member: int) -> Any | None:
    """The data sent with the request for that COSEM attribute or method, if any."""
    for c, o, m, value in dlms_items(view):
        if (c, o, m) == (class_id, obis, member):
            return value
    return None


def dlms_action(view: Any, class_id: int, obis: str, method: int) -> Any | None:
    """The data sent with an action request (method invocation), if any."""
    specs = view.get("access_request_list_of_specification", []) if isinstance(view, dict) else []
    for spec, value in zip(specs, view.get("access_request_list_of_data", []), strict=False):
        desc = spec.get("cosem_method_descriptor") or {}
        if (desc.get("class_id"), desc.get("instance_id"), desc.get("method_id")) == \
                (class_id, obis, method):
            return value
    return None


def zcl_all(view: Any, command: str) -> Iterator[dict[str, Any]]:
    """The fields of every cluster command named `command` in a GBZ payload."""
    for component in view.get("components", []) if isinstance(view, dict) else []:
        payload = component.get("zcl_frame", {}).get("payload", {})
        if payload.get("@type") == "cluster-command" and payload.get("command") == command:
            yield dict(payload.get("fields", {}))


def zcl_fields(view: Any, command: str | None = None) -> dict[str, Any]:
    """The fields of the first cluster command (named `command`, if given) of a GBZ payload."""
    for component in view.get("components", []) if isinstance(view, dict) else []:
        payload = component.get("zcl_frame", {}).get("payload", {})
        if payload.get("@type") == "cluster-command" and command in (None, payload.get("command")):
            return dict(payload.get("fields", {}))
    return {}


def named(view: Any, name: str) -> Iterator[Any]:
    """Every value of ASN.1 nodes called `name` (GBCS structure names), in order."""
    if isinstance(view, dict):
        if view.get("name") == name and "value" in view:
            yield view["value"]
        for v in view.values():
            yield from named(v, name)
    elif isinstance(view, list):
        for v in view:
            yield from named(v, name)


def scalar(node: Any) -> Any:
    """The value of an A-XDR data node."""
    if not isinstance(node, dict) or "value" not in node:
        raise InvalidArgument(f"expected a simple value, got {node!r}"[:120])
    return node["value"]


def charge_prices(node: Any) -> tuple[int, ...]:
    """The charge_per_unit column of a Charge (class 113) unit_charge structure, in device
    units: {scaler_unit {commodity scale, price scale}, commodity reference, charge_table}."""
    try:
        scale = int(node["elements"][0]["elements"][1]["value"])
        table = node["elements"][2]["elements"]
        prices = [int(row["elements"][1]["value"]) for row in table]
    except (KeyError, IndexError, TypeError, ValueError):
        raise InvalidArgument("unit_charge is not {scaler_unit, commodity, charge_table}") from None
    shift = scale - DEVICE_PRICE_SCALE
    if shift >= 0:
        return tuple(p * 10**shift for p in prices)
    return tuple(p // 10**-shift for p in prices)


def ascii_octets(hex_text: str) -> str:
    """An octet-string of ASCII characters (MPxN, UTRN digits)."""
    try:
        return bytes.fromhex(hex_text).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"not ASCII text: {hex_text!r}") from None


def eui(hex_text: str) -> str:
    """A device ID sent as 8 octets."""
    try:
        return EUI64.parse(hex_text).hyphenated
    except ValueError:
        raise InvalidArgument(f"not a device ID: {hex_text!r}") from None


def mpxn(text: str) -> MPxN:
    """An MPAN or MPRN."""
    try:
        return MPxN(text.strip())
    except ValueError:
        raise InvalidArgument(f"not an MPAN/MPRN: {text!r}") from None


def utrn(digits: str, counter: int) -> Utrn:
    """A top-up UTRN (20 decimal digits).

    opendcc's simplification of GBCS §14.3: the value is the UTRN's last 7 digits in device
    money units (up to £1,000) and the UTRN counter is the command's originator counter; the
    PTUT check code is not verified.
    """
    if len(digits) != 20 or not digits.isdigit():
        raise InvalidArgument(f"a UTRN is 20 decimal digits, got {digits!r}")
    return Utrn(value=int(digits[-7:]), counter=counter)


def first(values: Iterator[Any], what: str) -> Any:
    """The first value, or InvalidArgument naming what is missing."""
    for v in values:
        return v
    raise InvalidArgument(f"the command carries no {what}")


# --- argument readers by use case -----------------------------------------------------------

Reader = Callable[[CommandContext], dict[str, Any]]


def _none(ctx: CommandContext) -> dict[str, Any]:
    return {}


def _log_window(ctx: CommandContext) -> dict[str, Any]:
    return {"start": ctx.now - LOG_WINDOW, "end": ctx.now}


def _prices(ctx: CommandContext, obis: str, *, standing: bool) -> dict[str, Any]:
    """ECS01b/d: the TOU price matrix carries 48 slots; the tariff uses its first N rates."""
    meter: Any = ctx.device
    tariff: Tariff = meter.tariff if obis == PRIMARY_PRICES else (meter.secondary_tariff or meter.tariff)
    out: dict[str, Any] = {}
    node = dlms_value(ctx.view, 113, obis, 6)
    if node is not None:
        out["tou_prices"] = charge_prices(node)[:len(tariff.tou_prices)]
    sc = dlms_value(ctx.view, 113, STANDING_CHARGE, 6) if standing else None
    if sc is not None:
        out["standing_charge"] = charge_prices(sc)[0]
    return out


def _tariff(ctx: CommandContext, obis: str) -> dict[str, Any]:
    """ECS01a/c: a new tariff: the rates of the price matrix up to its last non-zero one, one
    rate all day (day profiles and block thresholds are not read yet)."""
    meter: Any = ctx.device
    current: Tariff = meter.tariff
    node = dlms_value(ctx.view, 113, obis, 6)
    prices = charge_prices(node)[:MAX_TOU_RATES] if node is not None else current.tou_prices
    while len(prices) > 1 and prices[-1] == 0:
        prices = prices[:-1]
    sc = dlms_value(ctx.view, 113, STANDING_CHARGE, 6)
    standing = charge_prices(sc)[0] if sc is not None else current.standing_charge
    return {"tariff": Tariff(tou_prices=prices or (0,), standing_charge=standing)}


def _gas_prices(ctx: CommandContext) -> dict[str, Any]:
    """GCS01b: Publish Price / Publish Block Period prices (ZCL Price cluster)."""
    fields = zcl_fields(ctx.view, "price/publish-price")
    if "price" not in fields:
        return {}
    meter: Any = ctx.device
    return {"tou_prices": (int(fields["price"]),) * len(meter.tariff.tou_prices)}


def _debt_dlms(ctx: CommandContext) -> dict[str, Any]:
    """ECS07: time-based debts 1 and 2 (Charge 0-0:19.20.1 / 19.20.2) and payment-based debt
    (19.20.3). Method 4 (update_total_amount_remaining) adds to a debt (scale -5); attribute 6
    is the recovery rate per collection period (attribute 8, seconds), kept per day."""
    meter: Any = ctx.device
    debt: Debt = meter.read_prepayment_registers(ctx.now).value.debt
    changes: dict[str, int] = {}
    for obis, amount_field, rate_field in ((DEBT_1, "time_debt_1", "time_debt_1_rate"),
                                           (DEBT_2, "time_debt_2", "time_debt_2_rate"),
                                           (DEBT_3, "payment_debt", None)):
        added = dlms_action(ctx.view, 113, obis, 4)
        if added is not None:
            changes[amount_field] = getattr(debt, amount_field) + int(scalar(added)) // MONEY_SCALE
        rate = dlms_value(ctx.view, 113, obis, 6)
        if rate is not None and rate_field is not None:
            period = dlms_value(ctx.view, 113, obis, 8)
            seconds = int(scalar(period)) if period is not None else 86400
            if seconds <= 0:
                raise InvalidArgument(f"debt collection period {seconds} s")
            changes[rate_field] = charge_prices(rate)[0] * 86400 // seconds
    return {"debt": replace(debt, **changes)}


def _debt_zcl(ctx: CommandContext) -> dict[str, Any]:
    """GCS04: Change Debt commands; debt amount types 0/1 are debt 1, 2/3 debt 2 (time-based,
    absolute / incremental), 4/5 debt 3 (payment-based); recovery amounts per frequency."""
    meter: Any = ctx.device
    debt: Debt = meter.read_prepayment_registers(ctx.now).value.debt
    for fields in zcl_all(ctx.view, "prepayment/change-debt"):
        kind = int(fields.get("debt_amount_type", 0))
        field = ("time_debt_1", "time_debt_2", "payment_debt")[min(kind // 2, 2)]
        amount = int(fields.get("debt_amount", 0)) // MONEY_SCALE
        value = amount if kind % 2 == 0 else getattr(debt, field) + amount
        changes: dict[str, int] = {field: value}
        if field != "payment_debt":
            per_day = _PER_DAY.get(int(fields.get("debt_recovery_frequency", 1)))
            if per_day is None:
                raise InvalidArgument(f"debt recovery frequency {fields.get('debt_recovery_frequency')}")
            changes[f"{field}_rate"] = int(int(fields.get("debt_recovery_amount", 0)) // MONEY_SCALE
                                           * per_day)
        debt = replace(debt, **changes)
    return {"debt": debt}


def _prepayment_config(ctx: CommandContext) -> dict[str, Any]:
    """GCS05: Emergency Credit Setup (limit, threshold) and Set Maximum Credit Limit (the
    maximum meter balance); low-credit warning and debt cap are not modelled."""
    meter: Any = ctx.device
    config: PrepaymentConfig = meter.prepayment_config
    for fields in zcl_all(ctx.view, "prepayment/emergency-credit-setup"):
        config = replace(config,
                         emergency_credit_limit=int(fields["emergency_credit_limit"]) // MONEY_SCALE,
                         emergency_credit_threshold=int(fields["emergency_credit_threshold"]) // MONEY_SCALE)
    for fields in zcl_all(ctx.view, "prepayment/set-maximum-credit-limit"):
        config = replace(config, max_meter_balance=int(fields["maximum_credit_level"]) // MONEY_SCALE)
    return {"config": config}


def _load_limit(ctx: CommandContext) -> dict[str, Any]:
    """ECS28a: power threshold (W, 0-0:94.44.128.7), whether to disable the supply
    (0-0:94.44.0.3) and the restoration period (s, 0-0:94.44.128.8), attribute 4 each."""
    meter: Any = ctx.device
    current: LoadLimitConfig | None = meter.load_limit
    threshold = dlms_value(ctx.view, 9000, "0-0:94.44.128.7", 4)
    disable = dlms_value(ctx.view, 9000, "0-0:94.44.0.3", 4)
    restoration = dlms_value(ctx.view, 9000, "0-0:94.44.128.8", 4)
    if threshold is None and current is None:
        return {"config": None}
    base = current or LoadLimitConfig(int(scalar(threshold)))
    return {"config": LoadLimitConfig(
        int(scalar(threshold)) if threshold is not None else base.threshold_w,
        bool(scalar(disable)) if disable is not None else base.disable_supply,
        timedelta(seconds=int(scalar(restoration))) if restoration is not None
        else base.restoration_period)}


def _trailing(value: int, trailing_digit: int) -> int:
    """A Smart Energy value with its trailing-digit field (digits after the point in the top
    nibble), in thousandths."""
    digits = (trailing_digit >> 4) & 0x0F
    return int(value * 1000 // 10**digits) if digits >= 3 else int(value * 10 ** (3 - digits))


def _conversion(ctx: CommandContext) -> dict[str, Any]:
    """GCS23: Publish Conversion Factor and Publish Calorific Value (Price cluster)."""
    meter: Any = ctx.device
    factors: ConversionFactors = meter.conversion
    for fields in zcl_all(ctx.view, "price/publish-conversion-factor"):
        factors = replace(factors, conversion_factor_milli=_trailing(
            int(fields["conversion_factor"]), int(fields["conversion_factor_trailing_digit"])))
    for fields in zcl_all(ctx.view, "price/publish-calorific-value"):
        factors = replace(factors, calorific_value_milli=_trailing(
            int(fields["calorific_value"]), int(fields["calorific_value_trailing_digit"])))
    return {"factors": factors}


def _mode(mode: PaymentMode) -> Reader:
    return lambda ctx: {"mode": mode}


def _tamper(ctx: CommandContext) -> dict[str, Any]:
    node = dlms_value(ctx.view, 1, "0-0:94.44.0.4", 2)
    locked = bool(scalar(node)) if node is not None else True
    return {"state": SupplyTamperState.LOCKED if locked else SupplyTamperState.UNCHANGED}


def _top_up_dlms(ctx: CommandContext) -> dict[str, Any]:
    node = dlms_value(ctx.view, 115, "0-0:19.40.0.255", 1)
    if node is None:
        raise InvalidArgument("the command carries no UTRN (Token Gateway method 1)")
    return {"utrn": utrn(ascii_octets(scalar(node)), ctx.counter)}


def _top_up_zcl(ctx: CommandContext) -> dict[str, Any]:
    code = zcl_fields(ctx.view, "prepayment/consumer-top-up").get("top_up_code")
    if not isinstance(code, str):
        raise InvalidArgument("the command carries no top-up code")
    return {"utrn": utrn(ascii_octets(code), ctx.counter)}


def _balance(ctx: CommandContext) -> dict[str, Any]:
    node = dlms_value(ctx.view, 112, "0-0:19.10.0.255", 1)
    if node is None:
        raise InvalidArgument("the command carries no balance adjustment")
    return {"amount": int(scalar(node)) // MONEY_SCALE}


def _mpxn_dlms(ctx: CommandContext) -> dict[str, Any]:
    node = dlms_value(ctx.view, 1, "0-0:94.44.34.11", 2)
    if node is None:
        raise InvalidArgument("the command carries no MPAN")
    text = ascii_octets(scalar(node))
    if len(text) == 2 * MPAN_DIGITS:
        # A twin-element ESME carries the primary then the secondary element's MPAN; the
        # model keeps the primary one.
        text = text[:MPAN_DIGITS]
    return {"mpxn": mpxn(text)}


def _mpxn_zcl(ctx: CommandContext) -> dict[str, Any]:
    site = zcl_fields(ctx.view, "device-management/update-site-id").get("site_id")
    if not isinstance(site, str):
        raise InvalidArgument("the command carries no Site ID")
    return {"mpxn": mpxn(site)}


def _clock(ctx: CommandContext) -> dict[str, Any]:
    """ECS70/GCS28: the device takes the DCC's time (the validity window is not checked)."""
    return {"device_time": ctx.now}


def _entity(ctx: CommandContext) -> dict[str, Any]:
    """CS03/CS04: the device to join or unjoin (ASN.1 entityID, or the bare octet string)."""
    if list(named(ctx.view, "joinMethodAndRole")) == [JOIN_NEEDS_CERTIFICATE] \
            and "otherDeviceCertificate" not in str(ctx.view):
        raise InvalidArgument("a join with joinMethodAndRole 3 needs otherDeviceCertificate")
    names = list(named(ctx.view, "entityID")) or list(named(ctx.view, "UnjoinDeviceCommand"))
    if not names and isinstance(ctx.view, dict) and ctx.view.get("@type") == "OCTET STRING":
        names = [ctx.view.get("value")]
    return {"other": eui(first(iter(names), "device to join or unjoin"))}


def _remove(ctx: CommandContext) -> dict[str, Any]:
    node = dlms_value(ctx.view, 104, "0-0:30.3.0.255", 2)
    if node is None:
        raise InvalidArgument("the command carries no device to remove")
    return {"device": eui(scalar(node))}


def _restore_chf(ctx: CommandContext) -> dict[str, Any]:
    """CCS03: the replaced hub's entries (device ID, install code) from the command."""
    node = dlms_value(ctx.view, 104, "0-0:30.3.0.255", 5)
    try:
        rows = node["elements"][1]["elements"] if node else []
        entries = []
        for row in rows:
            device_id = eui(row["elements"][0]["value"])
            known = ctx.lookup(device_id)
            kind = known.kind if known is not None else DeviceType.IHD
            entries.append(HanEntry(device_id, kind, bytes.fromhex(row["elements"][1]["value"]), True))
    except (KeyError, IndexError, TypeError):
        raise InvalidArgument("CCS03 entries are not {device ID, install code}") from None
    return {"entries": tuple(entries)}


def _restore_gpf(ctx: CommandContext) -> dict[str, Any]:
    return {"entries": tuple(eui(v) for v in named(ctx.view, "deviceID"))}


#: GBCS extended data (class 9000) objects of ECS08, attribute 4 (2.20: attribute 2) each:
#: the prepayment settings the ESME models (values in 10^-5 currency units).
_ECS08_SETTINGS = {("0-0:94.44.128.2", 4): "emergency_credit_limit",
                   ("0-0:94.44.128.3", 4): "emergency_credit_threshold",
                   ("0-0:94.44.2.20", 2): "max_meter_balance",
                   ("0-0:94.44.2.10", 4): "max_credit"}


def _prepayment_config_dlms(ctx: CommandContext) -> dict[str, Any]:
    """ECS08: emergency credit limit and threshold, maximum meter balance and maximum credit
    (GBCS extended data); low-credit threshold, debt recovery cap and the non-disablement
    calendar are not modelled."""
    meter: Any = ctx.device
    config: PrepaymentConfig = meter.prepayment_config
    for (obis, attribute), name in _ECS08_SETTINGS.items():
        node = dlms_value(ctx.view, 9000, obis, attribute)
        if node is not None:
            config = replace(config, **{name: int(scalar(node)) // MONEY_SCALE})
    return {"config": config}


def _balance_reset(ctx: CommandContext) -> dict[str, Any]:
    """ECS04b: Credit (class 112) method 2 sets the meter balance (0-0:19.10.0) to a value,
    normally 0: the adjustment is that value less the balance now."""
    node = dlms_action(ctx.view, 112, "0-0:19.10.0.255", 2)
    if node is None:
        raise InvalidArgument("the command does not set the meter balance")
    meter: Any = ctx.device
    return {"amount": int(scalar(node)) // MONEY_SCALE - meter.read_meter_balance(ctx.now).value.balance}


#: ZCL Credit Adjustment Types of the credit-mode meter balance (GCS40c/d): absolute, incremental.
_CREDIT_MODE_ABSOLUTE, _CREDIT_MODE_INCREMENTAL = 2, 3


def credit_adjustment(ctx: CommandContext, *, absolute: int, incremental: int,
                      balance: str) -> dict[str, Any]:
    """A ZCL Credit Adjustment of the meter balance as the amount to add: by an amount
    (`incremental` type) or to a value (`absolute` type, 0 for a reset); another type is not
    an adjustment of this `balance`."""
    fields = zcl_fields(ctx.view, "prepayment/credit-adjustment")
    kind, value = fields.get("credit_adjustment_type"), fields.get("credit_adjustment_value")
    if kind not in (absolute, incremental) or not isinstance(value, int):
        raise InvalidArgument(f"credit adjustment type {kind} is not a {balance}")
    amount = value // MONEY_SCALE
    if kind == absolute:
        meter: Any = ctx.device
        amount -= meter.read_meter_balance(ctx.now).value.balance
    return {"amount": amount}


def _credit_adjustment(ctx: CommandContext) -> dict[str, Any]:
    """GCS40c/GCS40d: Credit Adjustment of the credit-mode meter balance."""
    return credit_adjustment(ctx, absolute=_CREDIT_MODE_ABSOLUTE,
                             incremental=_CREDIT_MODE_INCREMENTAL,
                             balance="credit-mode meter balance")


_E_PRICES: Reader = lambda ctx: _prices(ctx, PRIMARY_PRICES, standing=True)  # noqa: E731

#: GBCS use case -> reader of its device method's arguments.
ARGUMENTS: dict[str, Reader] = {
    "ECS01a": lambda ctx: _tariff(ctx, PRIMARY_PRICES),
    "ECS01b": _E_PRICES,
    "ECS01c": lambda ctx: _tariff(ctx, SECONDARY_PRICES),
    "ECS01d": lambda ctx: _prices(ctx, SECONDARY_PRICES, standing=False),
    "GCS01b": _gas_prices,
    "ECS02": _mode(PaymentMode.CREDIT),
    "ECS03": _mode(PaymentMode.PREPAYMENT),
    "GCS02": _mode(PaymentMode.CREDIT),
    "GCS03": _mode(PaymentMode.PREPAYMENT),
    "ECS04a": _balance,
    "ECS07": _debt_dlms,
    "GCS04": _debt_zcl,
    "GCS05": _prepayment_config,
    "ECS08": _prepayment_config_dlms,
    "ECS04b": _balance_reset,
    "GCS40c": _credit_adjustment,
    "GCS40d": _credit_adjustment,
    "GCS24": lambda ctx: {"state": SupplyTamperState.LOCKED},
    "CS01a": _top_up_dlms,
    "CS01b": _top_up_zcl,
    "ECS21a": _log_window,
    "ECS21c": _log_window,
    "ECS21b": _log_window,
    "ECS22c": _log_window,
    "GCS15c": _log_window,
    "GCS15e": _log_window,
    "ECS22a": _log_window,
    "ECS22b": _log_window,
    "ECS66": _log_window,
    "GCS16a": _log_window,
    "GCS17": _log_window,
    "GCS61": _log_window,
    "ECS81": _tamper,
    "GCS24a": lambda ctx: {"state": SupplyTamperState.LOCKED},
    "ECS28a": _load_limit,
    "GCS23": _conversion,
    "ECS39a": _mpxn_dlms,
    "GCS41": _mpxn_zcl,
    "ECS70": _clock,
    "GCS28": _clock,
    "CCS02": _remove,
    "CCS03": _restore_chf,
    "GCS59": _restore_gpf,
    "CS03A1": _entity,
    "CS03A2": _entity,
    "CS03B": _entity,
    "CS03C": _entity,
    "CS04AC": _entity,
    "CS04B": _entity,
}


def arguments(use_case: str, ctx: CommandContext) -> dict[str, Any]:
    """The keyword arguments for the use case's device method (none for most reads)."""
    # Imported here: the authored readers are built on this module's payload helpers.
    from opendcc.devices.gbcs.authored_electricity import ARGUMENTS as AUTHORED_ELECTRICITY
    from opendcc.devices.gbcs.authored_gas_hub import ARGUMENTS as AUTHORED_GAS_HUB
    from opendcc.devices.gbcs.authored_gas_tariff import ARGUMENTS as AUTHORED_GAS_TARIFF
    from opendcc.devices.gbcs.authored_more import ARGUMENTS as AUTHORED_MORE

    return (ARGUMENTS.get(use_case) or AUTHORED_ELECTRICITY.get(use_case)
            or AUTHORED_GAS_HUB.get(use_case) or AUTHORED_MORE.get(use_case)
            or AUTHORED_GAS_TARIFF.get(use_case) or _none)(ctx)
