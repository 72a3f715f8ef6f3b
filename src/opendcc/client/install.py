"""Installing and commissioning over DUIS: the SRVs an installing supplier sends, one method
each, and `install_premises`, which runs them in order for a premises.

    from opendcc.client import DccClient
    from opendcc.client.install import Installer, PremisesPlan, install_premises
    with DccClient.from_reference("90-B3-D5-1F-30-01-00-00") as dcc:
        steps = install_premises(Installer(dcc), PremisesPlan(chf=..., gpf=..., esme=...,
                                 mpan="1400000000001"))

Each method returns the DCC's final `Response`; `install_premises` stops at the first step
that does not succeed and raises `InstallationFailed` naming it and its response code (the
inventory keeps whatever the steps before it did: each SRV is its own transaction at the DCC,
as DUIS has it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Final

from opendcc.client.builder import SR_NS
from opendcc.client.dcc_client import DccClient
from opendcc.client.errors import ClientError
from opendcc.client.response import Response
from opendcc.ids import EUI64

DeviceRef = EUI64 | str

#: Codes that mean the step was done: I0 success, I99 accepted (a non-device request with
#: nothing to return).
DONE: Final = frozenset({"I0", "I99"})


def _id(device: DeviceRef) -> str:
    return device.hyphenated if isinstance(device, EUI64) else EUI64.parse(device).hyphenated


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.00Z")


class InstallationFailed(ClientError):
    """A step of an installation did not succeed: which step, and the DCC's response (or,
    when the gateway refused the request outright, the client error in `reason`)."""

    def __init__(self, step: str, response: Response | None, reason: str | None = None) -> None:
        super().__init__(f"{step}: {response.response_code if response else reason}")
        self.step = step
        self.response = response
        self.reason = reason if response is None else response.response_code


class Installer:
    """The installation SRVs of DUIS 5.4, sent by one supplier through its `DccClient`."""

    def __init__(self, client: DccClient) -> None:
        self.client = client

    def pre_notify(self, device: DeviceRef, device_type: str, *, manufacturer: str = "opendcc",
                   model: str | None = None) -> Response:
        """SRV 12.2 Device Pre-notification: the device enters the inventory as Pending."""
        return self.client.request("12.2", {"DevicePrenotification": {
            "DeviceID": _id(device), "DeviceManufacturer": manufacturer,
            "DeviceModel": model or f"OPENDCC-{device_type}", "DeviceType": device_type}})

    def set_mpxn(self, meter: DeviceRef, mpxn: str) -> Response:
        """SRV 8.4 Update Inventory (UpdateMPxN): the meter point a meter supplies."""
        return self.client.request("8.4", {"UpdateInventory": {
            "DeviceID": _id(meter), "UpdateMPxN": {"ImportMPxN": mpxn}}})

    def install_hub(self, chf: DeviceRef, mpxn: str, *, location: str = "Basement or Cellar",
                    install_type: str = "New CHF Install") -> Response:
        """SRV 8.14.1 CH Status Update - Install Success: the hub is on the SM WAN
        (Commissioned), its GPF InstalledNotCommissioned. `mpxn`: the premises' meter point,
        for which the supplier must be registered (else E4)."""
        return self.client.request("8.14.1", {"CHFInstallSuccessSMWAN": {
            "DeviceID": _id(chf), "CHFInstallType": install_type, "MPxN": mpxn,
            "AerialInstall": "false", "CHFLocation": location}})

    def add_to_device_log(self, hub: DeviceRef, device: DeviceRef, install_code: str,
                          mpxn: str, *, join_seconds: int = 3600) -> Response:
        """SRV 8.11 Update HAN Device Log, Add (CCS01): `device` whitelisted on the hub with
        its install code (hex); it may join the HAN for `join_seconds` (DUIS JoinTimePeriod, in
        seconds, 1-3600)."""
        return self.client.request("8.11", {"UpdateHANDeviceLog": {
            "DeviceID": _id(device), "RequestType": "Add", "AddDeviceToCHFWhitelist": {
                "JoinTimePeriod": str(join_seconds), "InstallCode": install_code,
                "ImportMPxN": mpxn}}}, target=_id(hub))

    def remove_from_device_log(self, hub: DeviceRef, device: DeviceRef) -> Response:
        """SRV 8.11 Update HAN Device Log, Remove (CCS02): `device` leaves the hub's HAN."""
        return self.client.request("8.11", {"UpdateHANDeviceLog": {
            "DeviceID": _id(device), "RequestType": "Remove"}}, target=_id(hub))

    def join(self, meter: DeviceRef, other: DeviceRef) -> Response:
        """SRV 8.7.1 Join Service (Critical): `other` (a PPMID, IHD or CAD) joined to the meter
        and, for a PPMID, commissioned."""
        return self.client.request_critical(
            "8.7.1", {"JoinServiceCritical": {"OtherDeviceID": _id(other)}}, target=_id(meter))

    def commission(self, meter: DeviceRef, at: datetime, *, tolerance_s: int = 60) -> Response:
        """SRV 8.1.1 Commission Device: the meter's clock set to `at` (within `tolerance_s`);
        the meter is Commissioned and its data can be read from then on."""
        return self.client.request_critical("8.1.1", {"CommissionDeviceSynchroniseClock": {
            "CurrentDateTime": _utc(at), "TolerancePeriod": str(tolerance_s)}},
            target=_id(meter))

    def decommission(self, device: DeviceRef) -> Response:
        """SRV 8.3 Decommission Device: the device leaves service for good."""
        return self.client.request("8.3", {"DecommissionDevice": {"DeviceID": _id(device)}})

    def read_inventory(self, device: DeviceRef) -> Response:
        """SRV 8.2 Read Inventory for the device (its SMI Status is in the answer)."""
        return self.client.request("8.2", {"ReadInventory": {"DeviceID": _id(device)}})

    def status(self, device: DeviceRef) -> str | None:
        """The device's SMI Status as 8.2 Read Inventory gives it (None if not found)."""
        answer = self.read_inventory(device)
        if answer.body is None or answer.response_code != "I0":
            return None
        wanted = _id(device)
        for element in answer.body.iter(f"{{{SR_NS}}}DeviceID"):
            parent = element.getparent()
            if (element.text or "").strip() == wanted and parent is not None:
                status = parent.findtext(f"{{{SR_NS}}}DeviceStatus")
                return None if status is None else status.strip()
        return None


@dataclass(frozen=True)
class PremisesPlan:
    """What an installer fits at one premises: the comms hub (CHF, GPF), the meters with their
    meter points and install codes, and an optional PPMID."""

    chf: DeviceRef
    gpf: DeviceRef
    esme: DeviceRef
    mpan: str
    esme_install_code: str
    gsme: DeviceRef | None = None
    mprn: str | None = None
    gsme_install_code: str | None = None
    ppmid: DeviceRef | None = None
    ppmid_install_code: str | None = None
    commission_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def devices(self) -> Iterator[tuple[DeviceRef, str]]:
        """Every device with its DUIS DeviceType."""
        yield self.chf, "CHF"
        yield self.gpf, "GPF"
        yield self.esme, "ESME"
        if self.gsme is not None:
            yield self.gsme, "GSME"
        if self.ppmid is not None:
            yield self.ppmid, "PPMID"


def _step(steps: list[tuple[str, Response]], name: str, send: Callable[[], Response]) -> None:
    try:
        response = send()
    except InstallationFailed:
        raise
    except ClientError as exc:  # the gateway refused the request itself (HTTP status)
        raise InstallationFailed(name, None, str(exc)) from exc
    steps.append((name, response))
    if response.response_code not in DONE:
        raise InstallationFailed(name, response)


def install_premises(installer: Installer, plan: PremisesPlan, *,
                     add_to_device_log: bool = True) -> list[tuple[str, Response]]:
    """An installation over DUIS, in DUIS order: 12.2 for every device, 8.4 UpdateMPxN for the
    meters, 8.14.1 for the hub, 8.11 for the meters and PPMID (skip with
    `add_to_device_log=False` when the hub's device log already holds them), 8.7.1 to join
    the PPMID to the ESME, 8.1.1 for each meter. Returns every (step, response); raises
    `InstallationFailed` at the first step that is not I0/I99."""
    steps: list[tuple[str, Response]] = []
    for device, kind in plan.devices():
        _step(steps, f"12.2 {kind} {_id(device)}",
              partial(installer.pre_notify, device, kind))
    meters: list[tuple[DeviceRef, str, str | None]] = [(plan.esme, plan.mpan,
                                                        plan.esme_install_code)]
    if plan.gsme is not None and plan.mprn is not None:
        meters.append((plan.gsme, plan.mprn, plan.gsme_install_code))
    for meter, mpxn, _ in meters:
        _step(steps, f"8.4 UpdateMPxN {_id(meter)}",
              partial(installer.set_mpxn, meter, mpxn))
    _step(steps, f"8.14.1 {_id(plan.chf)}", partial(installer.install_hub, plan.chf, plan.mpan))
    if add_to_device_log:
        joining = [*meters]
        if plan.ppmid is not None:
            joining.append((plan.ppmid, plan.mpan, plan.ppmid_install_code))
        for device, mpxn, code in joining:
            if code is None:
                raise ValueError(f"{_id(device)} needs an install code to join the HAN")
            _step(steps, f"8.11 Add {_id(device)}",
                  partial(installer.add_to_device_log, plan.chf, device, code, mpxn))
    if (ppmid := plan.ppmid) is not None:
        _step(steps, f"8.7.1 {_id(ppmid)}", partial(installer.join, plan.esme, ppmid))
    for meter, _, _ in meters:
        _step(steps, f"8.1.1 {_id(meter)}",
              partial(installer.commission, meter, plan.commission_at))
    return steps
