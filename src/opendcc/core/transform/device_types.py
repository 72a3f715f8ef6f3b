"""Which device types a GBCS use case's command is addressed to, read from the use case's own
name and title in the GBCS use-case table (`gbcs/use-case-table.json`).

GBCS names each use case after the device it is for: the title says so ("Set Tariff and Price
on GSME", "Read CHF Event Log", "Clear ZigBee Device Event Log"), and where it does not the
code's family does (ECS: the ESME; GCS: the gas meter; CCS and DBCH: the Communications Hub
Function; PCS: the PPMID). Reads of a GSME's data may be addressed to the GSME or to the GPF
that holds its mirror (GBCS §10.4, the GPF as the GSME's proxy); other gas commands go to the
device named. The join and unjoin use cases (GBCS §13.7) are for the two ends of a HAN link,
by join method: Method A joins an ESME (the initiator, CS03A1) with a Type 1 device (PPMID or
HCALCS, the responder, CS03A2); Method B joins a Type 2 device (IHD, CAD) to a meter; Method C
joins a PPMID and a GSME (CS03C, to either end). The common use cases with no device in their
title (CS07 device join details, CS08 firmware version, CS02 security credentials, ...) are
for any device, which `None` says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ESME, GSME, GPF, CHF, PPMID, HCALCS, IHD, CAD = (
    "ESME", "GSME", "GPF", "CHF", "PPMID", "HCALCS", "IHD", "CAD")

#: The devices whose application runs over ZigBee SE (the ESME's is DLMS COSEM).
ZIGBEE_DEVICES = frozenset({GSME, GPF, PPMID, HCALCS, IHD, CAD})

#: GBCS §13.7 join methods: which devices receive each join / unjoin use case's command.
_JOIN_METHODS: dict[str, frozenset[str]] = {
    "CS03A1": frozenset({ESME}),  # Method A, the meter as initiator
    "CS03A2": frozenset({PPMID, HCALCS}),  # Method A, the Type 1 device as responder
    "CS03B": frozenset({ESME, GSME}),  # Method B: a Type 2 device joins a meter
    "CS03C": frozenset({GSME, PPMID}),  # Method C: a PPMID and a GSME
    "CS04AC": frozenset({ESME, GSME, PPMID, HCALCS}),  # unjoin either end of Method A or C
    "CS04B": frozenset({ESME, GSME}),
}

#: Words of a title that name a device (checked on word boundaries, any case).
_NAMED: tuple[tuple[str, frozenset[str]], ...] = (
    (r"ESME", frozenset({ESME})),
    (r"electricity", frozenset({ESME})),
    (r"GSME", frozenset({GSME})),
    (r"gas", frozenset({GSME})),
    (r"GPF", frozenset({GPF})),
    (r"CHF|Comms Hub|Communications Hub", frozenset({CHF})),
    (r"PPMID", frozenset({PPMID})),
    (r"HCALCS", frozenset({HCALCS})),
    (r"ZigBee Device", ZIGBEE_DEVICES),
)

#: The device a use-case code's family is for, when its title names none.
_FAMILIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("DBCH", frozenset({CHF})),
    ("HECS", frozenset({HCALCS})),
    ("PECS", frozenset({PPMID})),
    ("ECS", frozenset({ESME})),
    ("GCS", frozenset({GSME})),
    ("CCS", frozenset({CHF})),
    ("PCS", frozenset({PPMID})),
)


def _title_devices(title: str) -> frozenset[str]:
    """The devices a use case's title names (the title after its code)."""
    words = title.split(" ", 1)[1] if " " in title else ""
    # "ESME to HAN Device", "Top Up to a GSME using PPMID": the device after "to"/"using" is
    # where the command goes from, or to whom it is shown, not where it is sent
    words = re.split(r"\b(?:using|to HAN)\b", words, maxsplit=1)[0]
    found: set[str] = set()
    for pattern, kinds in _NAMED:
        if re.search(rf"\b(?:{pattern})\b", words, flags=re.IGNORECASE):
            found |= kinds
    return frozenset(found)


def use_case_devices(code: str, title: str = "", message_type: str = "") -> frozenset[str] | None:
    """The device types the command of GBCS use case `code` may be addressed to (None: any),
    from its title and message type in the GBCS use-case table."""
    if code in _JOIN_METHODS:
        return _JOIN_METHODS[code]
    found = _title_devices(title)
    if not found:
        family = next((kinds for prefix, kinds in _FAMILIES if code.startswith(prefix)), None)
        if family is None:
            return None  # a common use case (CS...): any device
        found = family
    if GSME in found and _is_read(title, message_type):
        found = found | {GPF}  # the GPF answers reads of the GSME's data from its mirror
    return frozenset(found)


def _is_read(title: str, message_type: str) -> bool:
    words = title.split(" ", 1)[1] if " " in title else title
    return words.lower().startswith("read") and ".C.NC" in message_type.replace(" ", "")


#: In `use_case_device_table`: the use case is for any device.
ANY_DEVICE = "*"


def use_case_device_table(rows: Iterable[dict[str, object]]) -> dict[str, list[str]]:
    """Device types per use-case code for the rows of the GBCS use-case table (`ANY_DEVICE`
    for a use case for any device). A code on several rows (ECS25a1..3) serves what any of
    them does."""
    out: dict[str, set[str]] = {}
    for row in rows:
        code = str(row.get("Code") or "")
        if not code:
            continue
        kinds = use_case_devices(code, str(row.get("Use Case Title") or ""),
                                 str(row.get("Message Type") or ""))
        out.setdefault(code, set()).update(kinds if kinds is not None else {ANY_DEVICE})
    return {code: [ANY_DEVICE] if ANY_DEVICE in kinds else sorted(kinds)
            for code, kinds in sorted(out.items())}
