"""How one DUIS value becomes one GBCS payload value: the named conversions the command
tables use (GBCS §7 payload encodings: A-XDR for DLMS/COSEM, ZCL types for GBZ, DER for ASN.1).

Each conversion takes the DUIS text and the skeleton's current leaf (so that octets a DUIS
value does not determine, such as a COSEM date-time's clock status, are kept) and returns the
new leaf as the payload codec's JSON view spells it. Pure functions, looked up by name.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.payload.asn1 import decode_asn1
from opendcc.ids import EUI64

#: DUIS 5.4: an ExecutionDateTime of 3000-12-31T00:00:00 cancels a future-dated command.
CANCEL = datetime(3000, 12, 31, tzinfo=UTC)
#: GBZ/ZCL UTC times count seconds from 2000-01-01 (ZigBee UTCTime).
ZCL_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class ConversionError(ValueError):
    """A DUIS value that the named conversion cannot encode."""


class UnknownEncoding(ConversionError):
    """An enumeration value the tables have no GBCS encoding for (not a bad request)."""


#: Conversions whose source is a DUIS list: they receive the texts of every leaf below the
#: source path, one per line, in document order.
LIST_CONVERSIONS = frozenset({"weekday-bits"})
#: `samples:<seconds>`: how many samples of a log captured every <seconds> a read from the
#: list's first date-time to its second (both included) returns (a list conversion).
SAMPLES = "samples:"
#: xs:DayOfWeek names in the order of a COSEM `exec_weekdays` bit-string (Monday first).
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


Leaf = int | str | bool | None
Conversion = Callable[[str, Any], Any]


def _datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConversionError(f"{text!r} is not an xs:dateTime") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError as exc:
        raise ConversionError(f"{text!r} is not an integer") from exc


def _old_bytes(old: Leaf, size: int) -> bytes:
    """The skeleton's octets, or `size` zero octets when it has none of that size."""
    if isinstance(old, str):
        try:
            raw = bytes.fromhex(old)
        except ValueError:
            raw = b""
        if len(raw) == size:
            return raw
    return bytes(size)


def as_int(text: str, old: Leaf) -> Leaf:
    """An integer leaf (A-XDR integer types, ZCL uintN, DER INTEGER)."""
    return _int(text)


def as_decimal_int(text: str, old: Leaf) -> Leaf:
    """A decimal written with a point but whole-valued ("12.0") as an integer leaf."""
    try:
        value = float(text)
    except ValueError as exc:
        raise ConversionError(f"{text!r} is not a decimal") from exc
    if value != int(value):
        raise ConversionError(f"{text!r} is not whole")
    return int(value)


def _scaled(power: int) -> Conversion:
    def convert_scaled(text: str, old: Leaf) -> Leaf:
        """A decimal carried as an integer in units of 10^-power (COSEM scaler -power)."""
        whole, point, frac = text.strip().lstrip("+").partition(".")
        if not point:
            raise ConversionError(f"{text!r} is an integer, not a decimal")
        frac = frac.rstrip("0")
        if len(frac) > power or not (whole.lstrip("-") + frac).isdigit():
            raise ConversionError(f"{text!r} has more than {power} decimal places")
        sign = -1 if whole.startswith("-") else 1
        return sign * int(whole.lstrip("-") + frac.ljust(power, "0"))
    return convert_scaled


def as_bool(text: str, old: Leaf) -> Leaf:
    """xs:boolean as a boolean leaf."""
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ConversionError(f"{text!r} is not an xs:boolean")
    return value in ("true", "1")


def _date_part(offset: int, size: int, total: tuple[int, ...], minus: int = 0) -> Conversion:
    def convert_part(text: str, old: Leaf) -> Leaf:
        """One field of a COSEM date or date-time octet-string (the others kept)."""
        raw = bytearray(bytes.fromhex(old) if isinstance(old, str) else b"")
        if len(raw) not in total:
            raise ConversionError(f"{old!r} is not a COSEM date / date-time")
        value = _int(text) - minus
        try:
            raw[offset:offset + size] = value.to_bytes(size, "big")
        except OverflowError as exc:
            raise ConversionError(f"{text!r} does not fit the field") from exc
        return raw.hex()
    return convert_part


def as_der_tree(text: str, old: Any) -> Any:
    """xs:base64Binary DER (a certificate) as the ASN.1 subtree the payload carries it as."""
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        return decode_asn1(der).to_json()
    except (binascii.Error, ValueError, GbcsError) as exc:
        raise ConversionError(f"not base64 DER: {exc}") from exc


def as_weekday_bits(text: str, old: Any) -> Any:
    """Blue Book class 10 `exec_weekdays`: bit-string(7), Monday first, from DUIS day names."""
    days = [line.strip() for line in text.splitlines() if line.strip()]
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown:
        raise ConversionError(f"{', '.join(unknown)} is not a day of the week")
    return "".join("1" if day in days else "0" for day in WEEKDAYS)


def enumeration(mapping: str) -> Conversion:
    """`map:WORD=VALUE,...`: a DUIS enumeration word as the GBCS value the tables learned
    for it (integers stay integers)."""
    table: dict[str, Any] = {}
    for pair in mapping.split(","):
        word, _, value = pair.partition("=")
        table[word] = int(value) if value.lstrip("-").isdigit() else value

    def convert_word(text: str, old: Any) -> Any:
        try:
            return table[text.strip()]
        except KeyError:
            raise UnknownEncoding(f"{text.strip()!r} has no learned encoding "
                                  f"(known: {', '.join(table)})") from None
    return convert_word


def as_text(text: str, old: Leaf) -> Leaf:
    """A character string leaf kept as text (ZCL octet strings of text, visible strings)."""
    return text


def as_utf8_hex(text: str, old: Leaf) -> Leaf:
    """A character string carried as an octet-string."""
    return text.encode("utf-8").hex()


def as_hex(text: str, old: Leaf) -> Leaf:
    """xs:hexBinary carried as an octet-string."""
    try:
        return bytes.fromhex(text.strip()).hex()
    except ValueError as exc:
        raise ConversionError(f"{text!r} is not hexBinary") from exc


def as_base64_hex(text: str, old: Leaf) -> Leaf:
    """xs:base64Binary carried as an octet-string."""
    try:
        return base64.b64decode("".join(text.split()), validate=True).hex()
    except (binascii.Error, ValueError) as exc:
        raise ConversionError(f"{text!r} is not base64Binary") from exc


def as_eui_hex(text: str, old: Leaf) -> Leaf:
    """A DUIS EUI-64 (hyphenated) as its eight octets."""
    try:
        return EUI64.parse(text.strip()).hex.lower()
    except Exception as exc:  # InvalidIdentifier and friends
        raise ConversionError(f"{text!r} is not an EUI-64") from exc


def as_uint8_hex(text: str, old: Leaf) -> Leaf:
    """A small integer carried as a one-octet octet-string (e.g. COSEM day_id, script selector)."""
    value = _int(text)
    if not 0 <= value < 256:
        raise ConversionError(f"{value} does not fit one octet")
    return f"{value:02x}"


def as_cosem_datetime(text: str, old: Leaf) -> Leaf:
    """Blue Book §4.1.6.1 date-time (12 octets); cancellation becomes "not specified"."""
    when = _datetime(text).astimezone(UTC)
    kept = _old_bytes(old, 12)
    if when == CANCEL:
        return (b"\xff" * 9 + b"\x80\x00" + kept[11:]).hex()
    out = (when.year.to_bytes(2, "big") + bytes((when.month, when.day)) + kept[4:5]
           + bytes((when.hour, when.minute, when.second)) + kept[8:])
    return out.hex()


def as_cosem_date(text: str, old: Leaf) -> Leaf:
    """Blue Book date (5 octets: year, month, day, day of week kept)."""
    try:
        day = datetime.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise ConversionError(f"{text!r} is not an xs:date") from exc
    kept = _old_bytes(old, 5)
    return (day.year.to_bytes(2, "big") + bytes((day.month, day.day)) + kept[4:]).hex()


def as_cosem_time(text: str, old: Leaf) -> Leaf:
    """Blue Book time (4 octets: hour, minute, second, hundredths kept)."""
    parts = text.strip()[:8].split(":")
    if len(parts) != 3:
        raise ConversionError(f"{text!r} is not an xs:time")
    kept = _old_bytes(old, 4)
    return (bytes(_int(p) for p in parts) + kept[3:]).hex()


def as_zcl_utc(text: str, old: Leaf) -> Leaf:
    """ZigBee UTCTime: seconds since 2000-01-01; cancellation is 0xFFFFFFFF."""
    when = _datetime(text)
    if when == CANCEL:
        return 0xFFFFFFFF
    return int((when - ZCL_EPOCH).total_seconds())


#: GBCS ASN.1 executionDateTime of a cancellation (as RTDS's CS02b cancellation carries it).
ASN1_CANCEL = "99991231235959Z"


def as_asn1_time(text: str, old: Leaf) -> Leaf:
    """ASN.1 GeneralizedTime (UTC, "YYYYMMDDHHMMSSZ"), as GBCS's ASN.1 commands carry times;
    DUIS's cancellation date (3000-12-31) becomes 9999-12-31T23:59:59Z."""
    when = _datetime(text).astimezone(UTC)
    return ASN1_CANCEL if when == CANCEL else when.strftime("%Y%m%d%H%M%SZ")


def sample_count(interval: int) -> Conversion:
    """The number of samples between a start and an end date-time (one per line), both
    included, of a log captured every `interval` seconds: what the DCC derives for a profile
    read from the request's ReadLogPeriod."""
    def convert_period(text: str, old: Leaf) -> Leaf:
        times = [_datetime(t) for t in text.split("\n") if t.strip()]
        if len(times) != 2:
            raise ConversionError(f"a sample count needs a start and an end date-time, not {text!r}")
        span = (times[1] - times[0]).total_seconds()
        if span < 0:
            raise ConversionError(f"the period ends ({times[1].isoformat()}) before it starts "
                                  f"({times[0].isoformat()})")
        return int(span // interval) + 1
    return convert_period


def takes_list(name: str) -> bool:
    """Whether the conversion reads every leaf below its source (one per line)."""
    return name in LIST_CONVERSIONS or name.startswith(SAMPLES)


def as_invoke_id(text: str, old: Leaf) -> Leaf:
    """DLMS long-invoke-id-and-priority: the skeleton's flags, the counter's low 24 bits."""
    flags = old & 0xFF000000 if isinstance(old, int) else 0x20000000
    return flags | (_int(text) & 0x00FFFFFF)


def as_transaction_id(text: str, old: Leaf) -> Leaf:
    """GBCS transaction id: a one-octet CRA flag (kept) and the 8-octet counter."""
    kept = _old_bytes(old, 9)
    return (kept[:1] + _int(text).to_bytes(8, "big")).hex()


def as_counter_hex(text: str, old: Leaf) -> Leaf:
    """A counter as an 8-octet octet-string."""
    return _int(text).to_bytes(8, "big").hex()


CONVERSIONS: dict[str, Conversion] = {
    "int": as_int,
    "decimal-int": as_decimal_int,
    "text": as_text,
    "utf8-hex": as_utf8_hex,
    "hex": as_hex,
    "base64-hex": as_base64_hex,
    "eui-hex": as_eui_hex,
    "uint8-hex": as_uint8_hex,
    "cosem-datetime": as_cosem_datetime,
    "cosem-date": as_cosem_date,
    "cosem-time": as_cosem_time,
    "zcl-utc": as_zcl_utc,
    "asn1-time": as_asn1_time,
    "invoke-id": as_invoke_id,
    "transaction-id": as_transaction_id,
    "counter-hex": as_counter_hex,
    "bool": as_bool,
    "der-asn1": as_der_tree,
    "weekday-bits": as_weekday_bits,
    # COSEM date (5 octets) / date-time (12 octets) fields, for DUIS dates given in parts
    "date-year": _date_part(0, 2, (5, 12)),
    "date-month": _date_part(2, 1, (5, 12)),
    "date-day": _date_part(3, 1, (5, 12)),
    # ZCL Date (4 octets: year - 1900, month, day of month, day of week), the others kept
    "zcl-date-year": _date_part(0, 1, (4,), minus=1900),
    "zcl-date-month": _date_part(1, 1, (4,)),
    "zcl-date-day": _date_part(2, 1, (4,)),
    **{f"decimal-e{k}": _scaled(k) for k in range(1, 7)},
}


def convert(name: str, text: str, old: Any) -> Any:
    """Apply the conversion `name`; raise ConversionError for an unknown name or a bad value."""
    if name.startswith("map:"):
        return enumeration(name[4:])(text, old)
    if name.startswith(SAMPLES):
        return sample_count(_int(name[len(SAMPLES):]))(text, old)
    try:
        fn = CONVERSIONS[name]
    except KeyError:
        raise ConversionError(f"no conversion named {name!r}") from None
    return fn(text, old)
