"""Which device types a GBCS use case is for, read from the GBCS use-case table's rows."""

from __future__ import annotations

import json

import pytest

from opendcc.config import reference_dir
from opendcc.core.transform.device_types import use_case_device_table, use_case_devices


@pytest.mark.parametrize(("code", "title", "message_type", "expected"), [
    ("ECS12", "ECS12 Set Change of Tenancy date on ESME", "SME.C.NC", {"ESME"}),
    ("GCS09", "GCS09 Set Change of Tenancy date on GPF", "SME.C.NC", {"GPF"}),
    ("GCS01a", "GCS01a Set Tariff and Price on GSME", "SME.C.C", {"GSME"}),
    ("GCS15d", "GCS15d Read GSME Billing Data Log (payment-based debt payments)", "SME.C.NC",
     {"GSME", "GPF"}),
    ("ECS35c", "ECS35c Read CHF Event Log", "SME.C.NC", {"CHF"}),
    ("ECS52", "ECS52 Read ESME/SAPC/Comms Hub Firmware Version", "SME.C.NC", {"ESME", "CHF"}),
    ("ECS25a", "ECS25a1 Set Event Behaviours - ESME to HAN Device - Supplier", "SME.C.NC", {"ESME"}),
    ("ECS05", "ECS05 Reset Tariff Block Counter Matrix", "SME.C.C", {"ESME"}),
    ("CCS06", "CCS06 Read CHF device log and check HAN communications", "SME.C.NC", {"CHF"}),
    ("CS03C", "CS03C Method C Join", "SME.C.C", {"GSME", "PPMID"}),
    ("CS03A1", "CS03A1 Method A Join (Meter)", "SME.C.C", {"ESME"}),
    ("CS07", "CS07 Read Device Join Details", "SME.C.NC", None),
])
def test_use_case_is_for_the_device_its_title_or_family_names(
        code: str, title: str, message_type: str, expected: set[str] | None) -> None:
    found = use_case_devices(code, title, message_type)
    assert (None if found is None else set(found)) == expected


def test_clear_zigbee_event_log_is_not_for_the_esme() -> None:
    found = use_case_devices("CS11", "CS11 Clear ZigBee Device Event Log", "SME.C.NC")
    assert found is not None and "GSME" in found and "ESME" not in found


def test_every_row_of_the_reference_table_is_read() -> None:
    rows = json.loads((reference_dir() / "gbcs" / "use-case-table.json").read_text(encoding="utf-8"))
    table = use_case_device_table(rows)
    assert table["ECS12"] == ["ESME"] and table["GCS36"] == ["GSME"]
    assert table["CS07"] == ["*"]  # for any device
    assert all(kinds for kinds in table.values())
