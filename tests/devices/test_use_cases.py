"""The use-case table: every row is a real GBCS use case served by a real device method."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from opendcc.devices.chf import CHF
from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import WrongDevice
from opendcc.devices.esme import ESME
from opendcc.devices.estate import Estate
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.devices.ppmid import PPMID
from opendcc.devices.tariff import Tariff
from opendcc.devices.use_cases import USE_CASES, use_case
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE

MODELS: dict[DeviceType, type[Device]] = {
    DeviceType.ESME: ESME, DeviceType.GSME: GSME, DeviceType.CHF: CHF, DeviceType.GPF: GPF,
    DeviceType.PPMID: PPMID,
}


@pytest.fixture(scope="module")
def gbcs_codes(reference: Path) -> set[str]:
    rows = json.loads((reference / "gbcs" / "use-case-table.json").read_text())
    # GBCS message codes name a few use cases the table omits (ECS26d, GCS60a, ...).
    return {row["Code"] for row in rows} | set(USE_CASE_BY_CODE.values())


@pytest.mark.parametrize("code", sorted(USE_CASES))
def test_row_names_a_gbcs_use_case_and_a_device_method(code: str, gbcs_codes: set[str]) -> None:
    row = USE_CASES[code]
    assert code in gbcs_codes
    assert callable(getattr(MODELS[row.device], row.method))


def test_unknown_use_case_says_it_is_not_emulated() -> None:
    with pytest.raises(KeyError, match="not emulated"):
        use_case("ECS99")


@pytest.mark.parametrize("code", sorted(USE_CASES))
def test_every_operation_takes_the_time_as_now(code: str) -> None:
    row = USE_CASES[code]
    assert "now" in inspect.signature(getattr(MODELS[row.device], row.method)).parameters


def test_dispatch_runs_a_use_case_on_the_boxed_esme() -> None:
    estate = Estate.demo(0)
    tariff = Tariff(tou_prices=(2999,))
    assert estate.dispatch("ECS01a", "00-DB-12-34-56-78-90-A0", tariff=tariff).value == tariff
    assert estate.dispatch("ECS24", "00-DB-12-34-56-78-90-A0").value == tariff
    regs = estate.dispatch("GCS13a", "00-DB-12-34-56-78-90-A1").value  # answered by the GPF
    assert regs.total_wh > 0


def test_dispatch_to_the_wrong_device_type_is_refused() -> None:
    with pytest.raises(WrongDevice):
        Estate.demo(0).dispatch("ECS42", "00-DB-12-34-56-78-90-A1")
