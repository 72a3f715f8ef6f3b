"""Demo estate: deterministic for a seed, valid identifiers, hosts the DCC Boxed device IDs."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from opendcc.clock import SimulatedClock
from opendcc.config import reference_dir
from opendcc.devices.device import DeviceType
from opendcc.devices.esme import ESME
from opendcc.devices.estate import Estate, mpan_with_check_digit
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.ids import EUI64

_TEMPLATES = reference_dir() / "duis" / "templates"
_BOXED_ID = re.compile(r"00-DB-12-34-56-78-90-[0-9A-F]{2}|01-02-03-04-05-06-07-08")


def _fingerprint(estate: Estate) -> list[tuple[str, ...]]:
    return [(p.chf.id, p.esme.id, str(p.esme.mpxn), str(p.esme.opening_wh),
             str(p.gsme.mpxn) if p.gsme else "",
             str(p.esme.register(p.esme.origin.replace(day=3))))
            for p in estate.premises]


def test_same_seed_gives_the_same_estate() -> None:
    a = Estate.demo(clock=SimulatedClock(), premises=20, seed=7)
    b = Estate.demo(clock=SimulatedClock(), premises=20, seed=7)
    c = Estate.demo(clock=SimulatedClock(), premises=20, seed=8)
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_different_seeds_give_different_consumption() -> None:
    a = Estate.demo(5, seed=1, boxed=False)
    b = Estate.demo(5, seed=2, boxed=False)
    day = a.premises[0].esme.origin + timedelta(days=1)
    assert [p.esme.consumption(p.esme.origin, day) for p in a.premises] != [
        p.esme.consumption(p.esme.origin, day) for p in b.premises]


def test_every_premises_has_hub_esme_gsme_gpf() -> None:
    estate = Estate.demo(clock=SimulatedClock(), premises=50, seed=1, boxed=False)
    assert len(estate) == 50
    ids = list(estate.device_ids())
    assert len(ids) == len(set(ids))
    for p in estate.premises:
        assert isinstance(p.esme, ESME) and isinstance(p.gsme, GSME) and isinstance(p.gpf, GPF)
        assert p.gpf.gsme is p.gsme
        assert {e.device for e in p.chf.device_log} >= {p.esme.id, p.gsme.id, p.gpf.id}
    assert any(p.others for p in estate.premises)


def test_generated_mpans_carry_a_valid_check_digit() -> None:
    estate = Estate.demo(clock=SimulatedClock(), premises=30, seed=3, boxed=False)
    for p in estate.premises:
        mpan = str(p.esme.mpxn)
        assert len(mpan) == 13 and mpan == mpan_with_check_digit(mpan[:12])
        assert p.gsme is not None and p.gsme.mpxn is not None and not p.gsme.mpxn.is_mpan


def test_mpan_check_digit_worked_example() -> None:
    # 1x3 + 2x5 + 3x7 + 4x13 + 5x17 + 6x19 + 7x23 + 8x29 + 9x31 + 0x37 + 1x41 + 2x53 = 1104;
    # 1104 mod 11 = 4; 4 mod 10 = 4.
    assert mpan_with_check_digit("123456789012") == "1234567890124"


def _template_device_ids() -> list[tuple[str, str]]:
    if not _TEMPLATES.is_dir():
        return []
    found = []
    for path in sorted(_TEMPLATES.iterdir()):
        for device_id in sorted(set(_BOXED_ID.findall(path.read_text(errors="replace")))):
            found.append((path.name, device_id))
    return found


@pytest.fixture(scope="module")
def boxed() -> Estate:
    return Estate.demo(clock=SimulatedClock(), premises=0)


def test_templates_folder_names_boxed_devices(reference: Path) -> None:
    assert _template_device_ids(), f"no DCC Boxed device IDs found under {reference}"


@pytest.mark.parametrize(("template", "device_id"), _template_device_ids())
def test_every_device_id_in_the_templates_is_hosted(boxed: Estate, template: str,
                                                   device_id: str) -> None:
    assert device_id in boxed, f"{template} names {device_id}, not hosted"


def test_boxed_premises_has_the_published_roles(boxed: Estate) -> None:
    kinds = {d: boxed.device(d).kind for d in (
        "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1", "00-DB-12-34-56-78-90-A2",
        "00-DB-12-34-56-78-90-A3", "00-DB-12-34-56-78-90-A4")}
    assert list(kinds.values()) == [DeviceType.ESME, DeviceType.GSME, DeviceType.CHF,
                                    DeviceType.GPF, DeviceType.PPMID]
    hub = boxed.premises_of("00-DB-12-34-56-78-90-A0").chf
    assert hub.id == "00-DB-12-34-56-78-90-A2"
    assert EUI64.parse("00DB1234567890A0").hyphenated in boxed


def _join_templates() -> list[tuple[str, str, str, str]]:
    """(template, service, target, other device) for every join/unjoin template."""
    found = []
    if not _TEMPLATES.is_dir():
        return found
    service = re.compile(r"<sr:((?:Unj|J)oinService(?:Critical|NonCritical))>\s*"
                         r"<sr:OtherDeviceID>([^<]+)</sr:OtherDeviceID>")
    target = re.compile(r"<sr:RequestID>[^:<]+:([^:<]+):")
    for path in sorted(_TEMPLATES.iterdir()):
        text = path.read_text(errors="replace")
        m, t = service.search(text), target.search(text)
        if m and t:
            found.append((path.name, m.group(1), t.group(1), m.group(2)))
    return found


@pytest.mark.parametrize(("template", "service", "target", "other"), _join_templates())
def test_join_and_unjoin_templates_execute_on_the_boxed_devices(
        template: str, service: str, target: str, other: str) -> None:
    estate = Estate.demo(0, clock=SimulatedClock())
    method = "unjoin_device" if service.startswith("Unjoin") else "join_device"
    result = estate.execute(target, lambda d, t: getattr(d, method)(other, t))
    assert (other in result.value) == (method == "join_device"), template


def test_there_are_join_templates() -> None:
    assert len(_join_templates()) >= 6
