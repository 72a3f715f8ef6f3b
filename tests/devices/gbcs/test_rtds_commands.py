"""Every RTDS Command of a use case the emulated devices serve, sent to an emulated device:
the Response decodes with the structure of the RTDS Response to that command, verifies with
the device's key, parses as MMC and carries the device's own values."""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from devices.gbcs.sites import Site
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.devices.gbcs.endpoint import Answer
from opendcc.devices.gbcs.settings import served as is_served
from opendcc.devices.gbcs.templates import shape, shape_key
from opendcc.devices.gbcs.values import gas_volume_milli_m3
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import decode, decrypt_payload
from opendcc.gbcs.codec import GbcsMessage, Verification
from opendcc.gbcs.payload.axdr import decode_data
from opendcc.gbcs.payloads import payload_json

RTDS = reference_dir() / "gbcs" / "rtds"
ALL_COMMANDS = sorted(RTDS.glob("*/*_COMMAND_GBCS.HEX"))


def read(path: Path) -> GbcsMessage:
    return decode(bytes.fromhex(path.read_text().strip()))


def served(paths: list[Path]) -> list[Path]:
    return [p for p in paths if is_served(read(p).use_case.code)]


COMMANDS = served(ALL_COMMANDS)


def _responses() -> dict[tuple[str, str, bool], list[Any]]:
    """RTDS Response shapes by (use case, command shape, success)."""
    out: dict[tuple[str, str, bool], list[Any]] = collections.defaultdict(list)
    for path in COMMANDS:
        command = read(path)
        response = read(path.with_name(path.name.replace("_COMMAND_", "_RESPONSE_")))
        key = (command.use_case.code, shape_key(payload_json(command.payload)), "ERROR" not in path.name)
        out[key].append(shape(payload_json(response.payload)))
    return out


RESPONSES = _responses()
HANDLED: collections.Counter[str] = collections.Counter()
#: RTDS success commands the device answered with a failure Response (its state refused them).
REFUSED_SUCCESS: list[str] = []


def test_every_served_use_case_has_rtds_commands() -> None:
    """Report: how many RTDS Commands are of use cases the devices serve (171 of 357 here)."""
    print(f"\nRTDS commands of served use cases: {len(COMMANDS)} of {len(ALL_COMMANDS)}")
    assert COMMANDS


def _value_checks() -> dict[str, Callable[[Any, Any, Site, Answer], None]]:
    """Use case -> a check that the response carries the device's state."""

    def dlms_data(view: Any, i: int) -> Any:
        return view["access_response_list_of_data"][i]["value"]

    def zcl_record(view: Any, cluster: int, attribute: int) -> Any:
        for c in view["components"]:
            if c["extended_header_cluster_id"] == cluster:
                for r in c["zcl_frame"]["payload"].get("read_attribute_status_records", []):
                    if r["attribute_identifier"] == attribute:
                        return r["attribute_value"]["value"]
        raise AssertionError(f"no attribute {attribute:#x} of cluster {cluster:#x}")

    def balance(view: Any, site: Site, ans: Answer) -> None:
        meter: Any = site.estate.device(ans.device)
        want = meter.read_meter_balance(site.clock.now()).value.balance * 10
        got = dlms_data(view, 0) if view["@type"] == "access-response" else zcl_record(view, 0x0705, 1)
        assert got == want

    def supply(view: Any, site: Site, ans: Answer) -> None:
        state = site.estate.device(ans.device).read_supply_status(site.clock.now()).value.state.value  # type: ignore[attr-defined]
        if view["@type"] == "access-response":
            assert dlms_data(view, 0) == {"disabled": 0, "enabled": 1, "armed": 2}[state]
        else:
            assert zcl_record(view, 0x0702, 0x14) == {"disabled": 0, "armed": 1, "enabled": 2}[state]

    def mpxn(view: Any, site: Site, ans: Answer) -> None:
        meter: Any = site.estate.device(ans.device)
        got = dlms_data(view, 0) if view["@type"] == "access-response" else zcl_record(view, 0x0702, 0x307)
        assert bytes.fromhex(got).decode() == str(meter.mpxn)

    def firmware(view: Any, site: Site, ans: Answer) -> None:
        version = site.estate.device(ans.device).firmware.version
        text = str(view)
        assert version.encode().hex() in text or version in text

    def tariff(view: Any, site: Site, ans: Answer) -> None:
        meter: Any = site.estate.device(ans.device)
        table = view["access_response_list_of_data"][-1]["elements"][2]["elements"]
        prices = tuple(r["elements"][1]["value"] for r in table[:len(meter.tariff.tou_prices)])
        assert prices == meter.tariff.tou_prices

    def plaintexts(site: Site, ans: Answer) -> list[bytes]:
        msg = decode(ans.messages[0], site.keys.supplier_side)
        return decrypt_payload(msg, site.keys.supplier_side)

    def import_register(view: Any, site: Site, ans: Answer) -> None:
        meter: Any = site.estate.device(ans.device)
        total = meter.read_instantaneous_import_registers(site.clock.now()).value.total_wh
        [plain] = plaintexts(site, ans)
        assert decode_data(plain).to_json()["elements"][0]["elements"][0]["value"] == total

    def gas_register(view: Any, site: Site, ans: Answer) -> None:
        device: Any = site.estate.device(ans.device)
        gsme = getattr(device, "gsme", None) or device
        wh = gsme.read_instantaneous_import_registers(site.clock.now()).value.total_wh
        [plain] = plaintexts(site, ans)
        assert (gas_volume_milli_m3(gsme, wh)).to_bytes(6, "little") in plain

    def tou_registers(view: Any, site: Site, ans: Answer) -> None:
        meter: Any = site.estate.device(ans.device)
        tou = meter.read_instantaneous_import_registers(site.clock.now()).value.tou_wh
        [plain] = plaintexts(site, ans)
        cells = decode_data(plain).to_json()["elements"][0]["elements"][0]["elements"]
        got = [c["value"] for c in cells]
        assert got[:len(tou)] == list(tou) and not any(got[len(tou):48])

    def gas_credit(view: Any, site: Site, ans: Answer) -> None:
        device: Any = site.estate.device(ans.device)
        gsme = getattr(device, "gsme", None) or device
        credit = gsme.read_meter_balance(site.clock.now()).value.balance * 10
        [plain] = plaintexts(site, ans)
        # Prepayment Credit Remaining (0x0001), status 0, int32.
        assert bytes.fromhex("0100002b") + credit.to_bytes(4, "little", signed=True) in plain

    def payment_mode(view: Any, site: Site, ans: Answer) -> None:
        device: Any = site.estate.device(ans.device)
        meter = getattr(device, "gsme", None) or device
        prepayment = meter.payment_mode.value == "prepayment"
        if view["@type"] == "access-response":
            account = view["access_response_list_of_data"][0]["elements"]
            assert [e["value"] for e in account] == [2 if prepayment else 1, 2]
        else:
            assert zcl_record(view, 0x0705, 0) == (2 if prepayment else 0)

    def gas_balance(view: Any, site: Site, ans: Answer) -> None:
        device: Any = site.estate.device(ans.device)
        gsme = getattr(device, "gsme", None) or device
        assert zcl_record(view, 0x0705, 1) == gsme.read_meter_balance(site.clock.now()).value.balance * 10

    return {"ECS26j": payment_mode, "GCS21j": payment_mode, "GCS60a": gas_balance,
            "GCS14": gas_credit, "ECS17b": import_register, "ECS17d": tou_registers, "ECS17e": tou_registers, "GCS13a": gas_register, "ECS82": balance, "GCS60": balance, "ECS45": supply, "GCS33": supply, "ECS40": mpxn,
            "GCS46": mpxn, "ECS52": firmware, "GCS38": firmware, "CS08": firmware, "ECS24": tariff}


VALUE_CHECKS = _value_checks()


@pytest.mark.parametrize("path", COMMANDS, ids=[p.name[:-len("_COMMAND_GBCS.HEX")] for p in COMMANDS])
def test_rtds_command_gets_the_response_gbcs_specifies(path: Path, site: Site) -> None:
    command = read(path)
    answer = site.endpoint.answer(site.command(command))
    [octets] = answer.messages
    response = decode(octets, site.keys.supplier_side)
    assert response.verification is Verification.VERIFIED, "verifies with the device's key"
    assert response.apdu.originator_counter > 10**12
    assert response.apdu.originator.hyphenated == answer.device
    assert response.apdu.recipient == command.apdu.originator
    assert response.apdu.message_code == command.apdu.message_code
    assert bool(response.apdu.signature) == bool(command.apdu.signature), "critical -> signed"
    view = payload_json(response.payload)
    expected = RESPONSES[(command.use_case.code, shape_key(payload_json(command.payload)), answer.executed)]
    if not expected and "ERROR" in path.name and answer.executed:
        # RTDS's error vectors repeat the success command; a device with no reason to refuse
        # executes it, so its response is the success one.
        expected = RESPONSES[(command.use_case.code, shape_key(payload_json(command.payload)), True)]
    if command.use_case.code == "CS02e":
        # The device's own certificate (DS or KA, as the command's keyUsage asks), in the
        # structure of opendcc's SMKI device profile.
        own = {c.public_bytes(Encoding.DER) for usage in ("ds", "ka")
               if (c := site.keys.supplier_side.certificate(response.apdu.originator, usage))}
        assert response.apdu.content in own
    else:
        assert shape(view) in expected, "same structure as the RTDS Response"
    parsed = parse(octets, keys=site.keys.supplier_side, user=command.apdu.originator)
    validate_mmc(parsed.to_mmc_xml())
    if answer.executed and "FUTURE_DATED" in path.name:
        held = site.estate.device(answer.device).pending()
        assert [p.use_case for p in held] == [command.use_case.code], "held until its date"
    if answer.executed and command.use_case.code in VALUE_CHECKS:
        VALUE_CHECKS[command.use_case.code](view, site, answer)
    HANDLED[command.use_case.code] += 1
    if not answer.executed and "ERROR" not in path.name:
        REFUSED_SUCCESS.append(path.name)


ERRORS = [p for p in COMMANDS if "ERROR" in p.name]


@pytest.mark.parametrize("path", ERRORS, ids=[p.name[:-len("_COMMAND_GBCS.HEX")] for p in ERRORS])
def test_a_refused_command_gets_the_rtds_error_response_structure(
        path: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from opendcc.devices.errors import InvalidArgument

    def refuse(*args: object, **kwargs: object) -> None:
        raise InvalidArgument("refused for the test")

    monkeypatch.setattr(site.endpoint, "_execute", refuse)
    monkeypatch.setattr(site.endpoint, "_hold", refuse)
    command = read(path)
    answer = site.endpoint.answer(site.command(command))
    assert not answer.executed
    response = decode(answer.messages[0], site.keys.supplier_side)
    view = payload_json(response.payload)
    rtds = read(path.with_name(path.name.replace("_COMMAND_", "_RESPONSE_")))
    assert shape(view) == shape(payload_json(rtds.payload))
    if command.use_case.code == "GCS31":
        # A Start Sampling Response has no status: an invalid sample id says it failed.
        [component] = view["components"]
        assert component["zcl_frame"]["payload"]["fields"]["sample_id"] == 0xFFFF
    else:
        assert not parse(answer.messages[0], keys=site.keys.supplier_side).success
    if view.get("@type") == "access-response":
        results = [r.get("result") for r in view.get("access_response_specification", [])]
        assert any(r not in (0, None) for r in results), "a failure result"


def test_report_handled_counts() -> None:
    """Runs after the parametrised test in file order: prints handled/total."""
    print(f"\nhandled {sum(HANDLED.values())}/{len(COMMANDS)} RTDS commands of served use cases; "
          f"success commands refused by the device's state: {REFUSED_SUCCESS}")
