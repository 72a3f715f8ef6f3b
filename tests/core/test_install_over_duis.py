"""Installing and commissioning a new dual-fuel premises entirely over DUIS, through the gateway.

Supplier A, with the SDK over HTTP (FastAPI TestClient): 12.2 pre-notifies the hub, GPF,
meters and PPMID; 8.14.1 installs the hub on the SM WAN; a read (4.1.1) of the ESME is E5 until
it is commissioned; 8.11 adds the meters to the hub's device log (CCS01); 8.7.1 joins the
PPMID to the ESME (CS03A1); 8.1.1 commissions the ESME (ECS70); the read then reaches the
meter (I0); A sets a tariff; the customer switches to B, whose CoS completes; B reads and sets a
tariff, A's read is E4. The inventory follows each device SRV when the device has carried it out
(`DeviceSide.follow_inventory`). The premises is one the emulated estate generates (seed 4
has a PPMID) and the inventory does not know beforehand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from core_requests import TEMPLATES, template
from fastapi.testclient import TestClient

from opendcc.client import DccClient
from opendcc.client.counter import Counter
from opendcc.client.install import InstallationFailed, Installer, PremisesPlan, install_premises
from opendcc.core.alerts import registered_parties
from opendcc.core.change_of_supplier import TRANSITIONAL_COS, check_switched, run_switches
from opendcc.core.commissioning import DEVICE_EFFECTS, device_effect
from opendcc.core.device_layer import DeviceSide, demo_device_side
from opendcc.core.scheduler import TimerThread
from opendcc.core.service import DataService
from opendcc.devices.estate import Premises
from opendcc.devices.gsme import CONTACT_INTERVAL
from opendcc.devices.load_model import EPOCH as GSME_EPOCH
from opendcc.devices.security import RemotePartyRole, TrustAnchor
from opendcc.devices.wan import ZERO_LATENCY
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import SR, read_request
from opendcc.gateway.app import create_app
from opendcc.gateway.wiring import GatewayConfig, Services, build_services
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.installation import EmulatedCredentials
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.model import Registration
from opendcc.inventory.registration_feed import apply_feed
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import open_store

A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = EUI64.parse("90-B3-D5-1F-30-02-00-00")
INSTALL_CODE = "30313233343536373839414243444546"
S = DeviceStatus


class YearAgo:
    """The wall clock a year back: the gateway's view of certificate validity (supplier B's
    ZAZ1 XML-signing certificate expired on 2025-12-22)."""

    def now(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=365)


@dataclass
class Dcc:
    services: Services
    side: DeviceSide
    http: TestClient
    premises: Premises


@pytest.fixture
def dcc() -> Iterator[Dcc]:
    store = open_store("sqlite://")
    clock = TimerThread()
    side = demo_device_side(clock, KeyStore.from_reference(), premises=1, seed=4)
    side.estate.wan.profile = ZERO_LATENCY
    seed_demo(store)
    side.follow_inventory(store)
    [premises] = [p for p in side.estate.premises if p.index == 0]
    with store.begin() as conn:  # the new premises' meter points are A's from yesterday
        for meter in (premises.esme, premises.gsme):
            assert meter is not None and meter.mpxn is not None
            inventory_repo.register(conn, Registration(meter.mpxn, A, DNO,
                                                       clock.now() - timedelta(days=1)))
    service = DataService(store, load_catalogue(), clock, devices=side.layer)
    services = build_services(GatewayConfig(store_url="sqlite://", smki_url="sqlite://",
                                            clock=YearAgo()), service=service, store=store)
    side.connect(services.deliver, registered_parties(store, clock.now))
    services.worker.start(poll=0.05)
    try:
        yield Dcc(services, side, TestClient(create_app(services=services)), premises)
    finally:
        services.worker.stop()
        clock.stop()
        services.close()


def _client(http: TestClient, tmp_path: Path, user: EUI64 = A) -> DccClient:
    return DccClient.from_reference(user, "http://testserver", http=http, timeout=20,
                                    counter=Counter(tmp_path / f"{user.hex}.counter"))


def _status(dcc: Dcc, device: str) -> DeviceStatus:
    with dcc.services.store.begin() as conn:
        found = inventory_repo.get_device(conn, EUI64.parse(device))
    assert found is not None
    return found.status


def _pre_notify_and_install_hub(a: DccClient, dcc: Dcc) -> None:
    p = dcc.premises
    assert p.gpf is not None and p.gsme is not None
    for device in p.devices():
        assert a.request("12.2", {"DevicePrenotification": {
            "DeviceID": device.id, "DeviceManufacturer": "opendcc",
            "DeviceModel": f"OPENDCC-{device.kind.value}",
            "DeviceType": device.kind.value}}).response_code == "I0"
    for meter in (p.esme, p.gsme):  # the meter points the meters supply (8.4 UpdateMPxN)
        assert a.request("8.4", {"UpdateInventory": {
            "DeviceID": meter.id,
            "UpdateMPxN": {"ImportMPxN": str(meter.mpxn)}}}).response_code == "I0"
    with dcc.services.store.begin() as conn:  # which hub the GPF is on: the manufacturer's data
        gpf = inventory_repo.get_device(conn, p.gpf.eui)
        assert gpf is not None
        inventory_repo.put_device(conn, replace(gpf, chf_id=p.chf.eui))
    assert a.request("8.14.1", {"CHFInstallSuccessSMWAN": {
        "DeviceID": p.chf.id, "CHFInstallType": "New CHF Install", "MPxN": str(p.esme.mpxn),
        "AerialInstall": "false", "CHFLocation": "Basement or Cellar"}}).response_code == "I0"
    assert _status(dcc, p.chf.id) is S.COMMISSIONED


def _add_to_device_log(a: DccClient, hub: str, device: str, mpxn: str) -> str:
    """SRV 8.11 (CCS01): `device` added to the hub's device log; the final response code."""
    return a.request("8.11", {"UpdateHANDeviceLog": {
        "DeviceID": device, "RequestType": "Add", "AddDeviceToCHFWhitelist": {
            "JoinTimePeriod": "90", "InstallCode": INSTALL_CODE, "ImportMPxN": mpxn}}},
        target=hub).response_code


def _body(name: str) -> object:
    return read_request(parse_xml(template(name).read_bytes())).body


def _read(a: DccClient, esme: str) -> str:
    return a.request("4.1.1", _body("ECS17b_4.1.1_SINGLE"), target=esme).response_code


def test_a_new_premises_installed_over_duis_is_read_then_switched_to_another_supplier(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    [ppmid] = [d for d in p.others]
    assert p.gsme is not None
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        assert _read(a, p.esme.id) == "E5"  # Pending: the DCC sends it nothing

        # 8.11 (CCS01) adds each device to the hub's device log; on the hub's success the
        # inventory has it Whitelisted.
        for device in (p.esme, p.gsme, ppmid):
            assert _add_to_device_log(a, p.chf.id, device.id, str(p.esme.mpxn)) == "I0"
            assert _status(dcc, device.id) is S.WHITELISTED
        assert _read(a, p.esme.id) == "E5"  # Whitelisted: not in service, no reads

        joined = a.request_critical("8.7.1", {"JoinServiceCritical": {"OtherDeviceID": ppmid.id}},
                                    target=p.esme.id)
        assert joined.response_code == "I0"
        assert _status(dcc, ppmid.id) is S.COMMISSIONED
        assert _read(a, p.esme.id) == "E5"

        # The Transform's ECS70 takes the clock from its command table, not the request, so
        # the SDK's correlation accepts only the template's CurrentDateTime / TolerancePeriod;
        # the meter takes the DCC's time whatever they say.
        commissioned = a.request_critical("8.1.1", _body("ECS70Commission_8.1.1"),
                                          target=p.esme.id)
        assert commissioned.response_code == "I0"
        assert _status(dcc, p.esme.id) is S.COMMISSIONED

        assert _read(a, p.esme.id) == "I0"
        assert a.request_critical("1.1.1", _body("ECS01a_1.1.1_IMMEDIATE_BLOCK"),
                                  target=p.esme.id).response_code == "I0"

    # The customer moves to supplier B: registration feed, then B's CoS (CS02b via the TCoS).
    now = dcc.side.router.clock.now()
    with dcc.services.store.begin() as conn:
        apply_feed(conn, "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
            f"{m.mpxn},{B},{DNO},{now.isoformat()}\n" for m in (p.esme, p.gsme)), now)
    for meter in (p.esme, p.gsme):  # generated meters are made without a TCoS anchor
        meter.anchors = meter.anchors.with_anchor(
            RemotePartyRole.TRANSITIONAL_COS, TrustAnchor(TRANSITIONAL_COS.hyphenated))
    credentials = EmulatedCredentials(lambda eui: dcc.side.estate.device(eui.hyphenated))
    assert run_switches(dcc.services.store, credentials, dcc.side.router.clock.now()) == 2
    assert check_switched(dcc.services.store, credentials, dcc.side.router.clock.now()) == []
    with _client(dcc.http, tmp_path, B) as b, _client(dcc.http, tmp_path) as a:
        assert _read(b, p.esme.id) == "I0"
        assert b.request_critical("1.1.1", _body("ECS01a_1.1.1_IMMEDIATE_BLOCK"),
                                  target=p.esme.id).response_code == "I0"
        assert a.submit("4.1.1", _body("ECS17b_4.1.1_SINGLE"), target=p.esme.id
                        ).response_code == "E4"
    assert credentials.supplier_anchor(p.esme.eui) == B


def test_a_join_to_a_device_not_in_the_inventory_is_refused_before_anything_is_sent(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    [ppmid] = [d for d in p.others]
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        with dcc.services.store.begin() as conn:
            inventory_repo.delete_device(conn, ppmid.eui)
            inventory_repo.set_status(conn, p.esme.eui, S.WHITELISTED)
        sent = dcc.side.router.counts.sent
        refused = a.submit("8.7.1", {"JoinServiceCritical": {"OtherDeviceID": ppmid.id}},
                           target=p.esme.id, command_variant=4)
        assert refused.response_code == "E19"
        assert dcc.side.router.counts.sent == sent
        assert _status(dcc, p.esme.id) is S.WHITELISTED


def test_adding_a_meter_to_the_hub_device_log_over_duis_whitelists_it(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        assert _add_to_device_log(a, p.chf.id, p.esme.id, str(p.esme.mpxn)) == "I0"
        assert _status(dcc, p.esme.id) is S.WHITELISTED


def test_commissioning_the_gas_meter_over_duis(dcc: Dcc, tmp_path: Path) -> None:
    p = dcc.premises
    assert p.gsme is not None
    # The battery-powered GSME takes a command only when it next wakes (every 30 minutes);
    # this one wakes 10 s from now, within the client's wait, on the wall clock.
    since = (dcc.side.router.clock.now() - GSME_EPOCH).total_seconds()
    p.gsme.contact_phase_s = int(since + 10) % int(CONTACT_INTERVAL.total_seconds())
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        assert _add_to_device_log(a, p.chf.id, p.gsme.id, str(p.gsme.mpxn)) == "I0"
        assert p.gpf is not None and _status(dcc, p.gpf.id) is S.INSTALLED_NOT_COMMISSIONED
        commissioned = a.request_critical("8.1.1", _body("GCS28Commission_8.1.1"),
                                          target=p.gsme.id)
        assert commissioned.response_code == "I0"
        assert _status(dcc, p.gsme.id) is S.COMMISSIONED
        assert _status(dcc, p.gpf.id) is S.COMMISSIONED  # the GPF enters service with it


def test_a_join_to_a_withdrawn_device_is_e5_before_anything_is_sent(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    [ppmid] = [d for d in p.others]
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        with dcc.services.store.begin() as conn:
            inventory_repo.set_status(conn, ppmid.eui, S.WITHDRAWN)
            inventory_repo.set_status(conn, p.esme.eui, S.WHITELISTED)
        sent = dcc.side.router.counts.sent
        refused = a.submit("8.7.1", {"JoinServiceCritical": {"OtherDeviceID": ppmid.id}},
                           target=p.esme.id, command_variant=4)
        assert refused.response_code == "E5"
        assert dcc.side.router.counts.sent == sent
        assert _status(dcc, ppmid.id) is S.WITHDRAWN


_EFFECT_TEMPLATES = [t for t in TEMPLATES
                     if read_request(parse_xml(t.read_bytes())).service_reference_variant
                     in DEVICE_EFFECTS]


@pytest.mark.parametrize("path", _EFFECT_TEMPLATES, ids=lambda t: t.name)
def test_each_inventory_changing_template_names_the_device_that_moves(path: Path) -> None:
    request = read_request(parse_xml(path.read_bytes()))
    effect = device_effect(request)
    srv = request.service_reference_variant
    log = request.body  # 8.11: UpdateHANDeviceLog
    if srv == "8.11" and log.findtext(f"{{{SR}}}RequestType") != "Add":
        assert effect is None  # CCS02: removed from the device log, the inventory moves by 8.3
        return
    assert effect is not None and effect.target == request.request_id.target
    if srv == "8.11":
        assert effect.other == EUI64.parse(log.findtext(f"{{{SR}}}DeviceID") or "")
    elif DEVICE_EFFECTS[srv][0] == "other":
        assert effect.other == EUI64.parse(request.body.findtext(f".//{{{SR}}}OtherDeviceID") or "")
    else:
        assert effect.other is None


def _rewhitelist(a: DccClient, dcc: Dcc, device: str) -> tuple[str, bytes]:
    """The meter taken off the hub's device log (8.11 Remove, CCS02) and added again (8.11 Add,
    CCS01: Whitelisted), not yet joined; the install code it joins with (plus its CRC)."""
    p = dcc.premises
    remove = {"UpdateHANDeviceLog": {"DeviceID": device, "RequestType": "Remove"}}
    assert a.request("8.11", remove, target=p.chf.id).response_code == "I0"
    assert p.chf.entry(device) is None
    assert _add_to_device_log(a, p.chf.id, device, str(p.esme.mpxn)) == "I0"
    assert _status(dcc, device) is S.WHITELISTED
    entry = p.chf.entry(device)
    assert entry is not None and not entry.joined
    return device, bytes.fromhex(INSTALL_CODE) + b"\x12\x34"


def test_a_device_joining_the_hub_han_is_recorded_in_the_inventory_then_commissioned(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        device, code = _rewhitelist(a, dcc, p.esme.id)
        assert _read(a, device) == "E5"  # Whitelisted: not joined, not in service

        p.chf.join(device, code, dcc.side.router.clock.now())  # the installer powers it up
        assert _status(dcc, device) is S.INSTALLED_NOT_COMMISSIONED
        assert _read(a, device) == "E5"  # joined, not yet commissioned: still no reads

        commissioned = a.request_critical("8.1.1", _body("ECS70Commission_8.1.1"), target=device)
        assert commissioned.response_code == "I0"
        assert _status(dcc, device) is S.COMMISSIONED
        assert _read(a, device) == "I0"


def test_a_join_the_inventory_cannot_take_leaves_it_unchanged(dcc: Dcc, tmp_path: Path) -> None:
    p = dcc.premises
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        device, code = _rewhitelist(a, dcc, p.esme.id)
        with dcc.services.store.begin() as conn:  # meanwhile decommissioned by its supplier
            inventory_repo.set_status(conn, p.esme.eui, S.DECOMMISSIONED)
        p.chf.join(device, code, dcc.side.router.clock.now())  # the hub's word: it joined
        assert _status(dcc, device) is S.DECOMMISSIONED


# The Transform's ECS70 takes the meter's clock from its command table (see the first test):
# the SDK's correlation accepts the template's time.
ECS70_TIME = datetime(2014, 12, 31, 23, 59, 10, tzinfo=UTC)


def test_the_sdk_installer_installs_commissions_and_decommissions_over_duis(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    [ppmid] = [d for d in p.others]
    assert p.gsme is not None
    with _client(dcc.http, tmp_path) as a:
        installer = Installer(a)
        for device in p.devices():
            assert installer.pre_notify(device.id, device.kind.value).response_code == "I0"
        for meter in (p.esme, p.gsme):
            assert installer.set_mpxn(meter.id, str(meter.mpxn)).response_code == "I0"
        with dcc.services.store.begin() as conn:  # the GPF's hub: the manufacturer's data
            gpf = inventory_repo.get_device(conn, p.gpf.eui) if p.gpf else None
            assert gpf is not None
            inventory_repo.put_device(conn, replace(gpf, chf_id=p.chf.eui))
        assert installer.install_hub(p.chf.id, str(p.esme.mpxn)).response_code == "I0"
        assert installer.status(p.chf.id) == "Commissioned"
        assert installer.status(p.esme.id) == "Pending"
        for device in (p.esme, p.gsme, ppmid):  # 8.11 (CCS01)
            assert installer.add_to_device_log(p.chf.id, device.id, INSTALL_CODE,
                                               str(p.esme.mpxn)).response_code == "I0"
            assert installer.status(device.id) == "Whitelisted"

        assert installer.join(p.esme.id, ppmid.id).response_code == "I0"
        assert installer.status(ppmid.id) == "Commissioned"
        assert installer.commission(p.esme.id, ECS70_TIME).response_code == "I0"
        assert installer.status(p.esme.id) == "Commissioned"
        assert _read(a, p.esme.id) == "I0"

        # The customer gives up gas: the GSME is decommissioned, then the DCC sends it nothing.
        assert installer.decommission(p.gsme.id).response_code == "I0"
        assert installer.status(p.gsme.id) == "Decommissioned"
        assert a.submit("4.1.1", _body("ECS17b_4.1.1_SINGLE"), target=p.gsme.id
                        ).response_code == "E5"
        assert installer.decommission(p.gsme.id).response_code == "E5"  # not twice


def test_the_sdk_installs_a_whole_premises_in_one_call(dcc: Dcc, tmp_path: Path) -> None:
    p = dcc.premises
    [ppmid] = [d for d in p.others]
    assert p.gpf is not None
    plan = PremisesPlan(chf=p.chf.id, gpf=p.gpf.id, esme=p.esme.id, mpan=str(p.esme.mpxn),
                        esme_install_code=INSTALL_CODE, ppmid=ppmid.id,
                        ppmid_install_code=INSTALL_CODE, commission_at=ECS70_TIME)
    with _client(dcc.http, tmp_path) as a:
        steps = install_premises(Installer(a), plan)
        assert [r.response_code for _, r in steps] == ["I0"] * len(steps)
        assert _read(a, p.esme.id) == "I0"
    assert _status(dcc, p.esme.id) is S.COMMISSIONED
    assert _status(dcc, ppmid.id) is S.COMMISSIONED


def test_an_installation_step_that_fails_stops_the_script_and_names_it(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    assert p.gpf is not None
    plan = PremisesPlan(chf=p.chf.id, gpf=p.gpf.id, esme=p.esme.id, mpan="1400000000999",
                        esme_install_code=INSTALL_CODE)  # a meter point A is not registered for
    with _client(dcc.http, tmp_path) as a, pytest.raises(InstallationFailed) as failed:
        install_premises(Installer(a), plan)
    assert failed.value.step == f"8.14.1 {p.chf.id}"
    assert failed.value.response.response_code == "E4"
    assert _status(dcc, p.chf.id) is S.PENDING  # the steps before it stand; this one did nothing


def test_the_install_commands_script_a_supplier_over_duis(
    dcc: Dcc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from opendcc.cli import install_cmds
    from opendcc.cli.main import app

    p = dcc.premises
    assert p.gpf is not None
    monkeypatch.setattr(install_cmds, "make_client",
                        lambda user, url: _client(dcc.http, tmp_path, EUI64.parse(user)))
    runner = CliRunner()
    common = ["--chf", p.chf.id, "--gpf", p.gpf.id, "--esme", p.esme.id,
              "--esme-install-code", INSTALL_CODE, "--supplier", A.hyphenated]
    refused = runner.invoke(app, ["install", "duis", *common, "--mpan", "1400000000999"])
    assert refused.exit_code == 1
    assert f"refused at 8.14.1 {p.chf.id}: E4" in refused.output
    status = runner.invoke(app, ["install", "status", p.esme.id, p.chf.id,
                                 "--supplier", A.hyphenated])
    assert status.exit_code == 0, status.output
    assert f"{p.esme.id}  Pending" in status.output and f"{p.chf.id}  Pending" in status.output
    gone = runner.invoke(app, ["install", "decommission", p.chf.id, "--supplier", A.hyphenated])
    assert gone.exit_code == 1 and "E5 8.3" in gone.output  # a Pending hub is returned, not decommissioned
    assert _status(dcc, p.chf.id) is S.PENDING


def test_a_device_removed_over_duis_leaves_the_hub_and_the_estate(
    dcc: Dcc, tmp_path: Path,
) -> None:
    p = dcc.premises
    [ppmid] = [d for d in p.others]
    with _client(dcc.http, tmp_path) as a:
        _pre_notify_and_install_hub(a, dcc)
        installer = Installer(a)
        assert installer.add_to_device_log(p.chf.id, ppmid.id, INSTALL_CODE,
                                           str(p.esme.mpxn)).response_code == "I0"
        assert installer.remove_from_device_log(p.chf.id, ppmid.id).response_code == "I0"
        assert p.chf.entry(ppmid.id) is None  # CCS02: off the hub's HAN
        assert installer.status(ppmid.id) == "Whitelisted"  # 8.11 Remove moves no status
        assert installer.decommission(ppmid.id).response_code == "I0"
        assert installer.status(ppmid.id) == "Decommissioned"
        assert _add_to_device_log(a, p.chf.id, p.esme.id, str(p.esme.mpxn)) == "I0"
        sent = dcc.side.router.counts.sent
        refused = a.submit("8.7.1", {"JoinServiceCritical": {"OtherDeviceID": ppmid.id}},
                           target=p.esme.id, command_variant=4)
        assert refused.response_code == "E5"  # a decommissioned device joins nothing
        assert dcc.side.router.counts.sent == sent
