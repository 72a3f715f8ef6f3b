"""The GSME, the CHF and any device execute the gas, hub and device-independent use cases RTDS
has no vector for, as the Transform's authored forms send them (`core.transform.authored.gas`
and `hub`, `devices.gbcs.authored_gas_hub`): the device state changes, and the Response comes
back verified (MAC or signature) and parses into valid MMC with `opendcc.client.parse`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree

from devices.gbcs.sites import Keys, Site, payload_view
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.core.routing import _commanded_counter
from opendcc.core.transform import transform
from opendcc.devices.chf import CHF
from opendcc.devices.device import DeviceType
from opendcc.devices.esme import ESME
from opendcc.devices.gbcs.authored_gas_hub import new_credentials_key
from opendcc.devices.gsme import GSME, BillingCalendar
from opendcc.devices.supply import SupplyState
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import SR, read_request
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec
from opendcc.gbcs.codec import Verification
from opendcc.gbcs.payload.asn1 import decode_asn1

ESME_ID, GSME_ID, CHF_ID = ("00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1",
                            "00-DB-12-34-56-78-90-A2")
TEMPLATES = reference_dir() / "duis" / "templates"
TRANSFORM_TIME = datetime(2014, 6, 1, tzinfo=UTC)
HASH = bytes.fromhex("AA758690730934FF0685AA758690730934FF0685657788990011223344556677")
DEVICE_TYPES = {ESME_ID: "ESME", GSME_ID: "GSME", CHF_ID: "CHF"}


def _request(stem: str, edit: dict[str, str] | None = None, drop: str | None = None) -> Any:
    root = parse_xml((TEMPLATES / f"{stem}_REQUEST_DUIS.XML").read_bytes())
    for name, text in (edit or {}).items():
        node = root.find(f".//{{{SR}}}{name}")
        assert node is not None, name
        node.text = text
    if drop is not None:
        node = root.find(f".//{{{SR}}}{drop}")
        assert node is not None and node.getparent() is not None
        node.getparent().remove(node)  # type: ignore[union-attr]
    return read_request(root)


def _command(request: Any, keys: Keys, target: str | None = None) -> bytes:
    """The Transform's command; a Pre-Command signed by its user and MACed as the DCC does."""
    if target is not None:
        rid = request.request_id
        request = dataclasses.replace(request, request_id=dataclasses.replace(
            rid, target=type(rid.target).parse(target)))
    device = request.request_id.target.hyphenated
    result = transform(request, now=TRANSFORM_TIME, counter=10**13, keys=keys.device_side,
                       device_type=DEVICE_TYPES.get(device))
    if not result.pre_command:
        return result.gbcs
    msg = codec.decode(result.gbcs)
    signed = codec.sign_apdu(dataclasses.replace(msg.apdu, signature=bytes(64)), keys.device_side)
    return bytes(codec.add_mac_header(signed, keys.device_side))


def _answer(site: Site, request: Any, target: str | None = None) -> tuple[bool, Any, Any]:
    """Execute the request's command (fresh Originator Counter); the Response verified,
    parsed and rendered as valid MMC."""
    answer = site.endpoint.answer(site.command(codec.decode(_command(request, site.keys, target))))
    response = codec.decode(answer.messages[0], site.keys.supplier_side)
    critical = bool(codec.decode(_command(request, site.keys, target)).apdu.signature)
    assert bool(response.apdu.signature) == critical  # signed when critical, else MACed
    parsed = parse(answer.messages[0], keys=site.keys.supplier_side)
    validate_mmc(parsed.to_mmc_xml())
    assert parsed.success == answer.executed
    return answer.executed, payload_view(answer.messages[0], site.keys.supplier_side), parsed


def _device(site: Site, device_id: str, kind: type) -> Any:
    device = site.estate.device(device_id)
    assert isinstance(device, kind)
    return device


# --- CCS01 ---------------------------------------------------------------------------------------

def test_ccs01_whitelists_a_new_device_which_can_then_join(site: Site) -> None:
    chf = _device(site, CHF_ID, CHF)
    new = "00-DB-12-34-56-78-90-B7"
    request = _request("CCS01_8.11_SUCCESS", {"DeviceID": new, "JoinTimePeriod": "600"})
    assert chf.entry(new) is None
    executed, view, _ = _answer(site, request)
    assert executed
    assert [(r["@type"], r["result"]) for r in view["access_response_specification"]] == [
        ("access-response-action", 0)]
    entry = chf.entry(new)
    assert entry is not None and not entry.joined
    assert entry.install_code == bytes.fromhex("30313233343536373839414243444546")
    assert entry.join_until == site.clock.now() + timedelta(seconds=600)
    # the device presents its install code with the CRC; within the join window it joins
    chf.join(new, entry.install_code + b"\x12\x34", site.clock.now())
    assert chf.check_reachable(new).joined


def test_ccs01_for_a_device_already_logged_succeeds_and_keeps_its_entry(site: Site) -> None:
    chf = _device(site, CHF_ID, CHF)
    before = chf.entry(ESME_ID)
    executed, _, _ = _answer(site, _request("CCS01_8.11_SUCCESS", {"DeviceID": ESME_ID}))
    assert executed and chf.entry(ESME_ID) == before


def test_ccs01_refused_when_the_device_log_is_full_changes_nothing(site: Site) -> None:
    chf = _device(site, CHF_ID, CHF)
    while len(chf.device_log) < 16:
        chf.add_device_to_device_log(f"00-DB-00-00-00-00-00-{len(chf.device_log):02X}",
                                     DeviceType.IHD, bytes(16), site.clock.now())
    log = chf.device_log
    executed, view, _ = _answer(site, _request("CCS01_8.11_SUCCESS",
                                               {"DeviceID": "00-DB-12-34-56-78-90-B8"}))
    assert not executed and chf.device_log == log
    assert view["access_response_specification"][0]["result"] != 0


def test_ccs01_with_an_install_code_of_no_zigbee_length_is_refused(site: Site) -> None:
    chf = _device(site, CHF_ID, CHF)
    log = chf.device_log
    executed, _, _ = _answer(site, _request("CCS01_8.11_SUCCESS", {
        "DeviceID": "00-DB-12-34-56-78-90-B9", "InstallCode": "30313233343536"}))  # 7 octets
    assert not executed and chf.device_log == log


# --- DBCH05 --------------------------------------------------------------------------------------

def test_dbch05_the_chf_scans_its_channels(site: Site) -> None:
    chf = _device(site, CHF_ID, CHF)
    assert chf.channel_scan_at is None
    executed, view, _ = _answer(site, _request("DBCH05_6.29_SUCCESS"))
    assert executed and chf.channel_scan_at == site.clock.now()
    assert [(r["@type"], r["result"]) for r in view["access_response_specification"]] == [
        ("access-response-set", 0)]


# --- GCS39, GCS40a/b, GCS25a ----------------------------------------------------------------------

def test_gcs39_arms_a_closed_valve(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    gsme.disable_supply(site.clock.now())
    executed, view, _ = _answer(site, _request("GCS39_7.3_SUCCESS"))
    assert executed and gsme.supply_state is SupplyState.ARMED
    payload = view["components"][0]["zcl_frame"]["payload"]
    assert payload["command"] == "metering/supply-status-response"
    assert payload["fields"]["supply_status"] == 1


def test_gcs39_on_an_open_valve_is_refused_and_the_valve_stays_open(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    executed, view, _ = _answer(site, _request("GCS39_7.3_SUCCESS"))
    assert not executed and gsme.supply_state is SupplyState.ENABLED
    assert view["components"][0]["zcl_frame"]["payload"]["status_code"] != 0


def _balance(gsme: GSME, site: Site) -> int:
    return int(gsme.read_meter_balance(site.clock.now()).value.balance)


def test_gcs40a_adjusts_the_balance_by_the_amount(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    before = _balance(gsme, site)
    executed, view, _ = _answer(site, _request("GCS40a_1.5_SUCCESS",
                                               {"AdjustMeterBalance": "50000"}))
    assert executed and _balance(gsme, site) == before + 5000  # 10^-5 GBP -> 1/100 p
    assert view["components"][0]["zcl_frame"]["payload"]["status_code"] == 0


def test_gcs40b_resets_the_balance_to_zero(site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    gsme.adjust_meter_balance(1234, site.clock.now())
    root = parse_xml((TEMPLATES / "GCS40a_1.5_SUCCESS_REQUEST_DUIS.XML").read_bytes())
    node = root.find(f".//{{{SR}}}AdjustMeterBalance")
    assert node is not None and node.getparent() is not None
    node.getparent().replace(node, etree.Element(f"{{{SR}}}ResetMeterBalance"))  # type: ignore[union-attr]
    executed, _, _ = _answer(site, read_request(root))
    assert executed and _balance(gsme, site) == 0


@pytest.mark.parametrize("periodicity", ["Daily", "Weekly", "Quarterly", "SixMonthly", "Yearly"])
def test_gcs25a_sets_the_gsme_billing_calendar(periodicity: str, site: Site) -> None:
    gsme = _device(site, GSME_ID, GSME)
    executed, view, _ = _answer(site, _request("GCS25a_6.8_SUCCESS", {
        "Periodicity": periodicity, "BillingPeriodStart": "2026-02-01T00:00:00Z"}))
    assert executed
    assert gsme.billing_calendar == BillingCalendar(datetime(2026, 2, 1, tzinfo=UTC), periodicity)
    assert all(c["zcl_frame"]["payload"]["status_code"] == 0 for c in view["components"])


# --- CS06 ----------------------------------------------------------------------------------------

def test_cs06_activates_the_distributed_image_at_once(site: Site) -> None:
    esme = _device(site, ESME_ID, ESME)
    esme.distribute_firmware("2.0.0", HASH, site.clock.now())
    request = _request("CS06_11.3_FUTURE_DATED_SUCCESS", drop="ExecutionDateTime")
    executed, view, _ = _answer(site, request)
    assert executed and esme.firmware.version == "2.0.0"
    assert view["name"] == "executionOutcome"
    assert [e.get("value") for e in view["elements"]] == [0, b"2.0.0".hex()]


def test_cs06_of_an_image_never_distributed_is_refused(site: Site) -> None:
    esme = _device(site, ESME_ID, ESME)
    request = _request("CS06_11.3_FUTURE_DATED_SUCCESS", drop="ExecutionDateTime")
    executed, view, _ = _answer(site, request)
    assert not executed and esme.firmware.version == "1.0.0"
    assert view["elements"][0]["value"] != 0


def test_cs06_future_dated_is_held_runs_when_due_and_a_cancellation_drops_it(site: Site) -> None:
    esme = _device(site, ESME_ID, ESME)
    esme.distribute_firmware("2.0.0", HASH, site.clock.now())
    when = site.clock.now() + timedelta(hours=2)
    future = _request("CS06_11.3_FUTURE_DATED_SUCCESS",
                      {"ExecutionDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
    executed, view, _ = _answer(site, future)
    assert executed and view == {"@type": "NULL", "name": "commandAccepted"}
    assert [p.use_case for p in esme.pending()] == ["CS06"] and esme.firmware.version == "1.0.0"
    _answer(site, _request("CS06_11.3_CANCELLATION_SUCCESS"))
    assert esme.pending() == []
    executed, _, _ = _answer(site, future)
    site.clock.advance(3 * 3600)
    assert esme.firmware.version == "2.0.0"
    # the device tells the command's originator: ActivateFirmwareAlert (FDA-CS06, 0x00CA)
    [alert] = [a for a in site.endpoint.alerts
               if codec.decode(a).apdu.other_information.message_code == 0x00CA]
    msg = codec.decode(alert, site.keys.supplier_side)
    assert msg.signature_check is Verification.VERIFIED
    values = {e["name"]: e for e in payload_view(alert, site.keys.supplier_side)["elements"]}
    assert values["alertCode"]["value"] == 0x8F66
    assert values["originatorCounter"]["value"] > 10**12  # the counter the site sent it with
    assert [e["value"] for e in values["executionOutcome"]["elements"]] == [0, b"2.0.0".hex()]
    assert parse(alert, keys=site.keys.supplier_side).use_case
    # the DCC matches it to the held command by that counter (core.routing)
    assert _commanded_counter(payload_view(alert, site.keys.supplier_side)) == \
        values["originatorCounter"]["value"]


@pytest.mark.parametrize(("device_id", "kind"), [(GSME_ID, GSME), (CHF_ID, CHF)])
def test_cs06_activates_firmware_on_other_device_types(device_id: str, kind: type,
                                                        site: Site) -> None:
    device = _device(site, device_id, kind)
    device.distribute_firmware("3.1.0", HASH, site.clock.now())
    request = _request("CS06_11.3_FUTURE_DATED_SUCCESS", drop="ExecutionDateTime")
    executed, _, _ = _answer(site, request, target=device_id)
    assert executed and device.firmware.version == "3.1.0"


# --- CS02c ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "usage"), [("Digital Signature", "ds"), ("Key Agreement", "ka")])
def test_cs02c_answers_a_certification_request_for_a_new_key(word: str, usage: str,
                                                             site: Site) -> None:
    esme = _device(site, ESME_ID, ESME)
    executed, view, _ = _answer(site, _request("CS02c_6.17_SUCCESS", {"CredentialType": word}))
    assert executed
    der = decode_asn1_der(view)
    request = x509.load_der_x509_csr(der)
    assert request.is_signature_valid
    expected = new_credentials_key(esme, usage).public_key()
    spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    assert request.public_key().public_bytes(*spki) == expected.public_bytes(*spki)
    current = site.keys.device_side.certificate(esme.eui, usage)
    assert current is not None and current.public_key().public_bytes(*spki) != \
        expected.public_bytes(*spki)


def test_cs02c_on_the_hub(site: Site) -> None:
    executed, view, _ = _answer(site, _request("CS02c_6.17_SUCCESS"), target=CHF_ID)
    assert executed and x509.load_der_x509_csr(decode_asn1_der(view)).is_signature_valid


def decode_asn1_der(view: Any) -> bytes:
    """The DER octets of the Response's ASN.1 payload view."""
    from opendcc.gbcs.payloads import encode_payload, payload_from_json

    payload = payload_from_json(view)
    assert payload is not None
    der = encode_payload(payload)
    decode_asn1(der)
    return der


def test_templates_of_the_authored_use_cases_reach_their_devices(site: Site) -> None:
    """Every template of these use cases is answered by its device (as test_device_srvs)."""
    stems = sorted(p.name.removesuffix("_REQUEST_DUIS.XML") for p in Path(TEMPLATES).glob("*.XML")
                   if p.name.split("_")[0] in {"CCS01", "DBCH05", "GCS39", "GCS40a", "GCS25a",
                                               "CS06", "CS02c"})
    assert len(stems) == 8
    for stem in stems:
        _answer(site, _request(stem))
