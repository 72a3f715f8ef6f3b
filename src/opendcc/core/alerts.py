"""Alerts to DUIS users: device alerts and DCC alerts, to the party the alert is for.

DUIS 5.4 §3.5: a device's alert reaches the user as `sr:DeviceAlertMessage` (AlertCode and
the device's GBCS Alert as GBCSPayload), a DCC alert as `sr:DCCAlertMessage` (DCCAlertCode
and the event, e.g. AD1 PowerOutageEvent). The alert table (`devices.events.ALERT_TYPES`)
says which remote party an alert is for; the registration data says who that party is for
the device's meter point: the supplier for supplier alerts, the network operator for power
outage and restoration.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from opendcc.devices.events import Alert, Recipient
from opendcc.duis.request import SR
from opendcc.duis.response import build_response, format_datetime
from opendcc.duis.response_codes import ResponseCode
from opendcc.gbcs import codec
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store

#: The DCC's entity ID, the originator of DCC alerts (DCC Boxed).
DCC_ID: Final = EUI64.parse("90-B3-D5-1F-30-00-00-02")

Deliver = Callable[[EUI64, etree._Element], object]


@dataclass(frozen=True, slots=True)
class Party:
    """A registered party of a meter point: who it is, in which role, for which MPxN."""

    role: Recipient
    user: EUI64
    mpxn: str


#: The registered parties of a device's meter points (registration data), by device ID.
Parties = Callable[[str], list[Party]]


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


def _alert_response(response_id: str, now: datetime, body: etree._Element) -> etree._Element:
    # An alert's Body holds the alert itself instead of a ResponseMessage.
    root = build_response(None, ResponseCode.I0, now=now, service_reference=None, variant=None,
                          response_id=response_id)
    holder = root.find(_sr("Body"))
    assert holder is not None
    holder.remove(holder[0])
    holder.append(body)
    return root


def device_alert_message(alert_code: str, gbcs: bytes, response_id: str,
                         now: datetime) -> etree._Element:
    """DUIS 5.4 §3.5 DeviceAlertMessage: the device's GBCS Alert for one user."""
    message = etree.Element(_sr("DeviceAlertMessage"), nsmap={"sr": SR})
    etree.SubElement(message, _sr("AlertCode")).text = alert_code
    etree.SubElement(message, _sr("GBCSPayload")).text = base64.b64encode(gbcs).decode("ascii")
    return _alert_response(response_id, now, message)


def power_outage_message(hub: str, started: datetime, mpxn: str, response_id: str,
                         now: datetime) -> etree._Element:
    """DUIS 5.4 §3.5 DCCAlertMessage AD1: the Communications Hub lost power."""
    message = etree.Element(_sr("DCCAlertMessage"), nsmap={"sr": SR})
    etree.SubElement(message, _sr("DCCAlertCode")).text = "AD1"
    event = etree.SubElement(etree.SubElement(message, _sr("DCCAlert")), _sr("PowerOutageEvent"))
    etree.SubElement(event, _sr("CommsHubDeviceID")).text = EUI64.parse(hub).hyphenated
    etree.SubElement(event, _sr("StartDateTime")).text = format_datetime(started)
    etree.SubElement(event, _sr("MPxN")).text = mpxn
    return _alert_response(response_id, now, message)


class AlertRouter:
    """Turns alerts from the estate into signed-to-be DUIS alerts for the right users.

    `deliver(user, message)` is the gateway's `Services.deliver` (DCC signature, outbox);
    `parties(device)` reads the registration data; `keys` hold the devices' key agreement
    keys, to MAC the GBCS Alert for its recipient (GBCS §7.2.7, CRA flag Alert).
    """

    def __init__(self, deliver: Deliver, parties: Parties, keys: KeyLookup,
                 counter: Callable[[], int], hub_meter: Callable[[str], str] | None = None
                 ) -> None:
        self.deliver = deliver
        self.parties = parties
        self.keys = keys
        self.counter = counter
        self.hub_meter = hub_meter or (lambda hub: hub)
        self.undelivered: list[Alert] = []

    def on_alert(self, alert: Alert) -> None:
        """Route one alert the WAN carried up (the estate's `alert_sink`)."""
        device = self.hub_meter(alert.device) if isinstance(alert.code, str) else alert.device
        recipients = [p for p in self.parties(device) if p.role is alert.recipient]
        if not recipients:
            self.undelivered.append(alert)  # nobody registered for it: kept, not lost
            return
        seen: set[EUI64] = set()
        for party in recipients:
            if party.user in seen:
                continue
            seen.add(party.user)
            self.deliver(party.user, self._message(alert, party))

    def _message(self, alert: Alert, party: Party) -> etree._Element:
        counter = self.counter()
        if isinstance(alert.code, str):
            return power_outage_message(alert.device, alert.at, party.mpxn,
                                        f"{DCC_ID}:{party.user}:{counter}", alert.at)
        device = EUI64.parse(alert.device)
        gbcs = gbcs_alert(alert, device, party.user, counter, self.keys)
        return device_alert_message(alert.code_text, gbcs,
                                    f"{device}:{party.user}:{counter}", alert.at)


def gbcs_alert(alert: Alert, device: EUI64, user: EUI64, counter: int, keys: KeyLookup) -> bytes:
    """GBCS §7.2.7: the device's Alert APDU (message code = alert code, dated), MACed by the
    device for the user; sent unMACed when the device has no key agreement key here."""
    assert isinstance(alert.code, int)
    apdu = GeneralSigning(CraFlag.ALERT, counter, device, user,
                          DateTime.from_datetime(alert.at), OtherInformation(alert.code),
                          b"", None)
    try:
        return bytes(codec.add_mac_header(apdu, keys))
    except GbcsError:
        return bytes(apdu)


def registered_parties(store: Store, clock: Callable[[], datetime]) -> Parties:
    """`Parties` from the registration data in the store: for each meter point responsible
    for the device, its supplier and its network operator at the current time."""

    def parties(device_id: str) -> list[Party]:
        out: list[Party] = []
        with store.connect() as conn:
            device = inventory_repo.get_device(conn, EUI64.parse(device_id))
            if device is None:
                return out
            for mpxn in inventory_repo.responsible_mpxns(conn, device):
                reg = inventory_repo.registration_at(conn, mpxn, clock())
                if reg is not None:
                    out.append(Party(Recipient.SUPPLIER, reg.supplier_id, str(mpxn)))
                    out.append(Party(Recipient.NETWORK_OPERATOR, reg.network_operator_id,
                                     str(mpxn)))
        return out

    return parties
