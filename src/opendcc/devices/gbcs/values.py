"""Fill a Response form with the device's own values.

The form (`templates.py`) gives the structure GBCS fixes for the use case; this module puts
in what the device knows: the invoke-id and ZCL sequence numbers of the command it answers,
the result of each DLMS request and ZCL record (failure when the device refused), and the
values it reports, found by COSEM class / OBIS / attribute (DLMS) or by cluster / attribute
(ZCL) or by GBCS structure name (ASN.1). Values the device does not model keep the form's,
which are neutral (zero, zero octets, "not specified" date-times: `forms.neutral`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from opendcc.devices.device import Device
from opendcc.devices.gbcs.arguments import (
    DEVICE_PRICE_SCALE,
    MONEY_SCALE,
    PRIMARY_PRICES,
    SECONDARY_PRICES,
    STANDING_CHARGE,
    dlms_items,
)
from opendcc.devices.gbcs.authored_electricity import DLMS_VALUES as AUTHORED_ELECTRICITY
from opendcc.devices.gbcs.authored_electricity import use_case_value
from opendcc.devices.gbcs.authored_gas_hub import PAYLOAD_VALUES as AUTHORED_GAS_HUB
from opendcc.devices.gbcs.authored_more import PAYLOAD_VALUES as AUTHORED_MORE
from opendcc.devices.gbcs.authored_more import use_case_value as more_value
from opendcc.devices.gbcs.templates import ResponseForm
from opendcc.devices.prepayment import PaymentMode
from opendcc.devices.supply import SupplyState
from opendcc.gbcs.payload.axdr import Data, decode_data, encode_data
from opendcc.gbcs.payload.gbz import GbzComponent, decode_deciphered_zcl, encode_zcl_payload
from opendcc.gbcs.payloads import ASN1, decode_payload, payload_json
from opendcc.gbcs.security import KeyLookup

#: DLMS Data-Access-Result / Action-Result "other-reason", and ZCL status FAILURE.
DLMS_OTHER_REASON = 250
ZCL_FAILURE = 0x01
#: ZCL Metering Unit of Measure "m3, binary" (SE 1.4 D.3.2.2.4).
ZCL_UNIT_M3 = 0x01
#: COSEM disconnect control state (class 70 attribute 3) and ZCL Metering Supply Status.
_DLMS_SUPPLY = {SupplyState.DISABLED: 0, SupplyState.ENABLED: 1, SupplyState.ARMED: 2}
_ZCL_SUPPLY = {SupplyState.DISABLED: 0, SupplyState.ARMED: 1, SupplyState.ENABLED: 2}


@dataclass(frozen=True, slots=True)
class FillContext:
    """The device answering, the time, the command's payload view and its use case."""

    device: Device
    now: datetime
    command: Any
    use_case: str = ""
    #: The device side's keys: where a device finds its own certificates (CS02e).
    keys: KeyLookup | None = None
    #: Where the device's estate keeps other devices (CS07 names the type of each joined one).
    lookup: Callable[[str], Device | None] | None = None


Getter = Callable[[FillContext, Any], Any]


def _octets(text: str) -> str:
    """A version or identifier as octets: hex text stays, anything else is its ASCII."""
    try:
        return bytes.fromhex(text).hex()
    except ValueError:
        return text.encode("ascii", "replace").hex()


def _set_value(node: Any, value: Any) -> Any:
    """The form's node with another value (its type kept)."""
    out = dict(node)
    out["value"] = value
    return out


def _charge(prices: tuple[int, ...]) -> Getter:
    """unit_charge (class 113): the tariff's prices in the charge table's rows, zeros after,
    with the price scale of device money (a long holds up to 32767 of 1/100 p)."""
    def fill(ctx: FillContext, node: Any) -> Any:
        out = copy.deepcopy(node)
        out["elements"][0]["elements"][1]["value"] = DEVICE_PRICE_SCALE
        rows = out["elements"][2]["elements"]
        for i, row in enumerate(rows):
            index = row["elements"][0]
            index["value"] = (i + 1).to_bytes(max(1, len(index["value"]) // 2), "big").hex()
            row["elements"][1]["value"] = prices[i] if i < len(prices) else 0
        return out
    return fill


def _meter(ctx: FillContext) -> Any:
    """The meter whose values the device reports: a GPF answers with its GSME's."""
    gsme = getattr(ctx.device, "gsme", None)
    return gsme if gsme is not None else ctx.device


def gas_volume_milli_m3(gsme: Any, wh: int) -> int:
    """Energy (Wh) back to volume in 1/1000 m3 with the GSME's calorific value and conversion
    factor (GCS23): kWh = m3 x CF x CV / 3.6."""
    factors = gsme.conversion
    return int(wh * 3600 * 1000 // (factors.calorific_value_milli * factors.conversion_factor_milli))


def _tariff_prices(secondary: bool) -> Getter:
    def fill(ctx: FillContext, node: Any) -> Any:
        meter = _meter(ctx)
        tariff = (meter.secondary_tariff or meter.tariff) if secondary else meter.tariff
        return _charge(tariff.tou_prices)(ctx, node)
    return fill


def _standing(ctx: FillContext, node: Any) -> Any:
    return _charge((_meter(ctx).tariff.standing_charge,))(ctx, node)


def _balance(ctx: FillContext, node: Any) -> Any:
    regs = _meter(ctx).read_meter_balance(ctx.now).value
    return _set_value(node, regs.balance * MONEY_SCALE)


def _supply(table: dict[SupplyState, int]) -> Getter:
    def fill(ctx: FillContext, node: Any) -> Any:
        return _set_value(node, table[_meter(ctx).read_supply_status(ctx.now).value.state])
    return fill


def _firmware(ctx: FillContext, node: Any) -> Any:
    return _set_value(node, _octets(ctx.device.firmware.version))


def _mpxn(ctx: FillContext, node: Any) -> Any:
    mpxn = _meter(ctx).mpxn
    return node if mpxn is None else _set_value(node, str(mpxn).encode().hex())


def _constant(value: int) -> Getter:
    return lambda ctx, node: _set_value(node, value)


def _device_time(ctx: FillContext, node: Any) -> Any:
    """ASN.1 GeneralizedTime: the device's own clock."""
    return _set_value(node, ctx.device.device_time(ctx.now).strftime("%Y%m%d%H%M%SZ"))


#: COSEM tariffication script table, the script a day profile action runs (GBCS ECS24).
_TARIFF_SCRIPTS = "00000a0064ff"


def _numbered(node: Any, number: int) -> None:
    """An octet-string name set to a number, in the form's length (at least one octet)."""
    node["value"] = number.to_bytes(max(1, len(node["value"]) // 2), "big").hex()


def _seasons(ctx: FillContext, node: Any) -> Any:
    """Activity calendar season_profile: seasons named by number, each running week profile 1."""
    out = copy.deepcopy(node)
    for i, season in enumerate(out.get("elements", [])):
        season["elements"][0]["value"] = str(i + 1).encode().hex()
        _numbered(season["elements"][2], 1)
    return out


def _week_profiles(ctx: FillContext, node: Any) -> Any:
    """Activity calendar week_profile_table: every day runs day profile 1 (the device keeps
    one switching table for every day)."""
    out = copy.deepcopy(node)
    for i, week in enumerate(out.get("elements", [])):
        _numbered(week["elements"][0], i + 1)
        for day in week["elements"][1:]:
            day["value"] = 1
    return out


def _day_profiles(secondary: bool) -> Getter:
    def fill(ctx: FillContext, node: Any) -> Any:
        meter = _meter(ctx)
        tariff = (meter.secondary_tariff or meter.tariff) if secondary else meter.tariff
        return _day_profile_table(tariff.switching, _SECONDARY_TOU if secondary else _PRIMARY_TOU,
                                  node)
    return fill


#: GBCS tariff script selectors: TOU rate n of the primary element is 100 + n, of the
#: secondary element 200 + n (block rates are 1-8).
_PRIMARY_TOU = 100
_SECONDARY_TOU = 200


def _special_days(ctx: FillContext, node: Any) -> Any:
    """Special days table: each entry numbered from 1 (MMC SpecialDay index is 1-20),
    running day profile 1."""
    out = copy.deepcopy(node)
    for i, entry in enumerate(out.get("elements", [])):
        entry["elements"][0]["value"] = i + 1
        entry["elements"][2]["value"] = 1
    return out


def _day_profile_table(switching: tuple[tuple[int, int], ...], base: int, node: Any) -> Any:
    """Activity calendar day_profile_table: profile 1 is the tariff's switching table (start
    time, tariff script, TOU rate as script selector); further actions of the form's length
    repeat the last switch, further profiles are copies of the first."""
    out = copy.deepcopy(node)
    for i, profile in enumerate(out.get("elements", [])):
        profile["elements"][0]["value"] = i + 1
        actions = profile["elements"][1]["elements"]
        for j, action in enumerate(actions):
            minute, rate = switching[min(j, len(switching) - 1)]
            start, script, selector = action["elements"]
            start["value"] = bytes((minute // 60, minute % 60, 0, 0)).hex()
            script["value"] = _TARIFF_SCRIPTS
            selector["value"] = base + rate + 1
    return out


def _schedule(ctx: FillContext, node: Any) -> Any:
    """Schedule (class 10) entries the device model does not keep (the ESME's non-disablement
    calendar): numbered from 1, disabled (the form's neutral false), valid from and to the
    device's date (MMC needs a calendar date where COSEM would allow "not specified")."""
    out = copy.deepcopy(node)
    today = ctx.device.device_time(ctx.now).date()
    cosem_date = (today.year.to_bytes(2, "big") + bytes((today.month, today.day,
                                                          today.isoweekday()))).hex()
    for i, entry in enumerate(out.get("elements", [])):
        fields = entry["elements"]
        fields[0]["value"] = i + 1
        for field in fields[-2:]:
            field["value"] = cosem_date
    return out


#: COSEM Account (class 111) account_mode_and_status: payment mode credit (1) or prepayment
#: (2); account status active (2).
_DLMS_PAYMENT_MODE = {PaymentMode.CREDIT: 1, PaymentMode.PREPAYMENT: 2}
_ACCOUNT_ACTIVE = 2
#: ZCL Prepayment Payment Control Configuration bit "Prepayment Enabled".
_ZCL_PREPAYMENT_ENABLED = 0x0002


def _account_mode(ctx: FillContext, node: Any) -> Any:
    """ECS26j: the ESME's payment mode, its account active."""
    out = copy.deepcopy(node)
    mode, status = out["elements"][:2]
    mode["value"] = _DLMS_PAYMENT_MODE[_meter(ctx).payment_mode]
    status["value"] = _ACCOUNT_ACTIVE
    return out


def _payment_control(ctx: FillContext, node: Any) -> Any:
    """GCS21j: Prepayment Enabled set in prepayment mode; the other bits (not modelled) clear."""
    prepayment = _meter(ctx).payment_mode is PaymentMode.PREPAYMENT
    return _set_value(node, _ZCL_PREPAYMENT_ENABLED if prepayment else 0)


def _export(ctx: FillContext, node: Any) -> Any:
    return _set_value(node, _meter(ctx).read_export_registers(ctx.now).value.total_wh)


#: (class_id, OBIS, attribute) of a DLMS get -> the device value in the response.
DLMS_VALUES: dict[tuple[int, str, int], Getter] = {
    (113, PRIMARY_PRICES, 5): _tariff_prices(False),
    (113, SECONDARY_PRICES, 5): _tariff_prices(True),
    (113, STANDING_CHARGE, 5): _standing,
    (112, "0-0:19.10.0.255", 2): _balance,
    (70, "0-0:96.3.10.255", 3): _supply(_DLMS_SUPPLY),
    (1, "0-0:0.2.1.255", 2): _firmware,
    (1, "0-0:94.44.34.11", 2): _mpxn,
    (3, "1-0:2.8.0.255", 2): _export,
    (111, "0-0:19.0.0.255", 2): _account_mode,
    # Activity calendars of the primary and secondary elements (active attributes 3-5).
    (20, "0-0:13.0.0.255", 3): _seasons,
    (20, "0-0:13.0.0.255", 4): _week_profiles,
    (20, "0-0:13.0.0.255", 5): _day_profiles(False),
    (20, "0-0:13.0.1.255", 3): _seasons,
    (20, "0-0:13.0.1.255", 4): _week_profiles,
    (20, "0-0:13.0.1.255", 5): _day_profiles(True),
    (11, "0-0:11.0.0.255", 2): _special_days,
    (11, "0-0:11.0.1.255", 2): _special_days,
    # ESME non-disablement calendar (ECS26a): special days and schedule.
    (11, "0-0:11.0.2.255", 2): _special_days,
    (10, "0-0:12.0.1.255", 2): _schedule,
    # ESME reads of use cases without an RTDS vector (authored_electricity.py).
    **AUTHORED_ELECTRICITY,
}

#: (cluster id, attribute id) of a ZCL read -> the device value in the response record.
ZCL_VALUES: dict[tuple[int, int], Getter] = {
    (0x0702, 0x0000): lambda ctx, node: _gas_summation(ctx, node),
    # Formatting of the summation: the GSME reports volume in m3 x 1/1000 (`_gas_summation`).
    (0x0702, 0x0300): _constant(ZCL_UNIT_M3),
    (0x0702, 0x0301): _constant(1),
    (0x0702, 0x0302): _constant(1000),
    (0x0702, 0x0014): _supply(_ZCL_SUPPLY),
    (0x0702, 0x0307): _mpxn,
    (0x0702, 0x0206): _firmware,
    (0x0705, 0x0001): _balance,
    (0x0705, 0x0000): _payment_control,
}

#: GBCS ASN.1 structure names -> the device value.
ASN1_VALUES: dict[str, Getter] = {
    "firmwareVersion": _firmware,
    "deviceTime": _device_time,
}


def _fill_dlms(view: dict[str, Any], ctx: FillContext, success: bool) -> None:
    if "long_invoke_id_and_priority" in ctx.command:
        view["long_invoke_id_and_priority"] = ctx.command["long_invoke_id_and_priority"]
    data = view.get("access_response_list_of_data", [])
    results = view.get("access_response_specification", [])
    for i, (class_id, obis, member, _) in enumerate(dlms_items(ctx.command)):
        if not success:
            if i < len(results) and "result" in results[i]:
                results[i]["result"] = DLMS_OTHER_REASON
            continue
        getter = DLMS_VALUES.get((class_id, obis, member)) or use_case_value(ctx, class_id, obis, member) \
            or more_value(ctx.use_case, class_id, member)
        if getter is not None and i < len(data) and data[i].get("@type") != "null-data":
            data[i] = getter(ctx, data[i])


#: ZCL Start Sampling Response sample ids: the device's one network data log, or invalid.
_SAMPLE_ID, _SAMPLE_REFUSED = 1, 0xFFFF


def _fill_zcl(view: dict[str, Any], ctx: FillContext, success: bool) -> None:
    sent = ctx.command.get("components", []) if isinstance(ctx.command, dict) else []
    for i, component in enumerate(view.get("components", [])):
        frame = component.get("zcl_frame", {})
        if i < len(sent) and "transaction_sequence_number" in frame:
            frame["transaction_sequence_number"] = sent[i].get("zcl_frame", {}).get(
                "transaction_sequence_number", frame["transaction_sequence_number"])
        payload = frame.get("payload", {})
        cluster = component.get("extended_header_cluster_id")
        for record in payload.get("read_attribute_status_records", []):
            if not success:
                record["status"] = ZCL_FAILURE
                record.pop("attribute_value", None)
                continue
            getter = ZCL_VALUES.get((cluster, record.get("attribute_identifier")))
            if getter is not None and record.get("attribute_value"):
                record["attribute_value"] = getter(ctx, record["attribute_value"])
        if not success and payload.get("@type") == "default-response":
            payload["status_code"] = ZCL_FAILURE
        _sample_id(payload, success)


def _sample_id(payload: dict[str, Any], success: bool) -> None:
    """GCS31: the network data log's sample id, 0xFFFF when the device refused."""
    if payload.get("command") == "metering/start-sampling-response":
        payload["fields"]["sample_id"] = _SAMPLE_ID if success else _SAMPLE_REFUSED


def _fill_asn1(node: Any, ctx: FillContext) -> Any:
    if isinstance(node, dict):
        getter = ASN1_VALUES.get(node.get("name", ""))
        if getter is not None and "value" in node:
            return getter(ctx, node)
        return {k: _fill_asn1(v, ctx) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill_asn1(v, ctx) for v in node]
    return node


def _ecs17b_plain(plaintext: bytes, ctx: FillContext, component: Any) -> bytes:
    """ECS17b protected registers: the active import register (unit 30, Wh) is the ESME's
    total import; the reactive register keeps the form's value."""
    total = _meter(ctx).read_instantaneous_import_registers(ctx.now).value.total_wh
    key = (plaintext, total)
    done = _ECS17B_PLAIN.get(key)
    if done is not None:
        return done
    data = decode_data(plaintext).to_json()
    elements = data["elements"][0]["elements"]
    for i in range(0, len(elements) - 1, 2):
        if elements[i + 1]["elements"][1]["value"] == _UNIT_ACTIVE_ENERGY_WH:
            elements[i]["value"] = total
    done = encode_data(Data.from_json(data))
    if len(_ECS17B_PLAIN) >= 1024:  # registers move on: stay bounded
        _ECS17B_PLAIN.clear()
    _ECS17B_PLAIN[key] = done
    return done


#: (form's plaintext, import register) -> ECS17b's plaintext: a pure function of the two, so
#: repeated reads of an unchanged register skip the DLMS decode, rebuild and encode.
_ECS17B_PLAIN: dict[tuple[bytes, int], bytes] = {}


def _zcl_plain(plaintext: bytes, ctx: FillContext, component: Any) -> bytes:
    """An encrypted GBZ component's read records (GCS13a-c, GCS14, ...): each attribute in
    `ZCL_VALUES` gets the device's value, the others keep the form's."""
    part = dict(component)
    frame = dict(part["zcl_frame"])
    frame["payload"] = {k: v for k, v in frame["payload"].items() if k != "plaintext"}
    part["zcl_frame"] = frame
    records = decode_deciphered_zcl(GbzComponent.from_json(part), plaintext)
    view = records.to_json()
    if "read_attribute_status_records" not in view:
        return plaintext
    cluster = int(part.get("extended_header_cluster_id", 0))
    for record in view["read_attribute_status_records"]:
        getter = ZCL_VALUES.get((cluster, record.get("attribute_identifier")))
        if getter is not None and record.get("attribute_value"):
            record["attribute_value"] = getter(ctx, record["attribute_value"])
    return encode_zcl_payload(type(records).from_json(view))


def _gas_summation(ctx: FillContext, node: Any) -> Any:
    """Current Summation Delivered: the GSME register as a volume in 1/1000 m3 (the unit,
    multiplier and divisor the GSME reports beside it)."""
    gsme = _meter(ctx)
    wh = gsme.read_instantaneous_import_registers(ctx.now).value.total_wh
    return _set_value(node, gas_volume_milli_m3(gsme, wh))


def _tou_plain(plaintext: bytes, ctx: FillContext, component: Any) -> bytes:
    """ECS17d/ECS17e protected TOU (and block) register matrices: the 48 TOU registers carry
    the ESME's TOU registers (Wh) and zero for rates it does not use; in ECS17e the block
    registers follow them."""
    data = decode_data(plaintext).to_json()
    registers = _meter(ctx).read_instantaneous_import_registers(ctx.now).value
    cells = data["elements"][0]["elements"][0]["elements"]
    values = [*registers.tou_wh, *([0] * (_TOU_REGISTERS - len(registers.tou_wh)))][:_TOU_REGISTERS]
    values += [*registers.block_wh, *([0] * len(cells))]
    for cell, value in zip(cells, values, strict=False):
        cell["value"] = value
    return encode_data(Data.from_json(data))


#: The TOU register matrix of an ESME element (GBCS: 48 rates).
_TOU_REGISTERS = 48
#: COSEM unit "Wh".
_UNIT_ACTIVE_ENERGY_WH = 30

#: Use case -> how the device rewrites the plaintext of an encrypted part with its values.
PLAINTEXT_VALUES: dict[str, Callable[[bytes, FillContext, Any], bytes]] = {
    "ECS17b": _ecs17b_plain,
    "ECS17d": _tou_plain,
    "ECS17e": _tou_plain,
}


def _fill_plaintexts(node: Any, ctx: FillContext, component: Any = None) -> None:
    """Rewrite the plaintexts the form marks (encrypted when the Response is built): DLMS
    protected data by use case, GBZ components by their read records."""
    if isinstance(node, dict):
        if node.get("@type") == "gbz-component":
            component = node
        if "plaintext" in node:
            filler = PLAINTEXT_VALUES.get(ctx.use_case) or (_zcl_plain if component is not None else None)
            if filler is not None:
                node["plaintext"] = filler(bytes.fromhex(node["plaintext"]), ctx, component).hex()
        for v in node.values():
            _fill_plaintexts(v, ctx, component)
    elif isinstance(node, list):
        for v in node:
            _fill_plaintexts(v, ctx, component)


#: keyUsage bits of a CS02e command (X.509 KeyUsage BIT STRING, first octet).
_DIGITAL_SIGNATURE_BIT, _KEY_AGREEMENT_BIT = 0x80, 0x08


def _device_certificate(ctx: FillContext, view: Any) -> Any:
    """CS02e: the device's own certificate for the key usage the command names (GBCS
    ProvideDeviceCertificateCommand keyUsage), as the Response's ASN.1 payload."""
    usage_bits = next((int(e.get("octets", "00")[:2] or "0", 16)
                       for e in ctx.command.get("elements", []) if e.get("name") == "keyUsage"), 0)
    key_agreement = usage_bits & _KEY_AGREEMENT_BIT and not usage_bits & _DIGITAL_SIGNATURE_BIT
    certificate = None if ctx.keys is None else \
        ctx.keys.certificate(ctx.device.eui, "ka" if key_agreement else "ds")
    if certificate is None:
        return view
    return payload_json(decode_payload(ASN1, certificate.public_bytes(Encoding.DER),
                                       use_case=ctx.use_case))


#: Use case -> the whole success payload from the device's own data.
PAYLOAD_VALUES: dict[str, Callable[[FillContext, Any], Any]] = {
    "CS02e": _device_certificate,
    **AUTHORED_GAS_HUB,  # CS02c (authored_gas_hub.py)
    **AUTHORED_MORE,  # CS07, GCS16b (authored_more.py)
}


def _json_copy(node: Any) -> Any:
    """A deep copy of a JSON view (dicts, lists and immutable scalars), several times
    faster than copy.deepcopy; anything else is deep-copied."""
    if isinstance(node, dict):
        return {k: _json_copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_copy(v) for v in node]
    if node is None or isinstance(node, str | int | float):
        return node
    return copy.deepcopy(node)


def fill(form: ResponseForm, ctx: FillContext, *, success: bool) -> Any:
    """The form's payload view with the device's values (a fresh copy). A refusal answered
    with a success form (RTDS shows no failure form for that command) has every result set
    to failure; a failure form keeps the failure results RTDS gives."""
    view = _json_copy(form.payload)
    if not isinstance(view, dict):
        return view
    if not success and not form.success:
        if "long_invoke_id_and_priority" in view and isinstance(ctx.command, dict):
            view["long_invoke_id_and_priority"] = ctx.command.get(
                "long_invoke_id_and_priority", view["long_invoke_id_and_priority"])
        for component in view.get("components", []):
            _sample_id(component.get("zcl_frame", {}).get("payload", {}), success)
        return view
    kind = view.get("@type")
    if kind == "access-response":
        _fill_dlms(view, ctx, success)
    elif kind == "gbz-payload":
        _fill_zcl(view, ctx, success)
        view = AUTHORED_MORE[ctx.use_case](ctx, view) if success and ctx.use_case in AUTHORED_MORE else view
    elif success:
        whole = PAYLOAD_VALUES.get(ctx.use_case)
        view = whole(ctx, view) if whole is not None else _fill_asn1(view, ctx)
    if success:
        _fill_plaintexts(view, ctx)
    return view
