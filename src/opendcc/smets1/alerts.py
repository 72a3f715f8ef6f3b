"""S1SP alerts to DUIS users: a provider's alert about an adopted meter becomes a DUIS 5.4
`S1SPAlert`, signed by the S1SP, inside a DCC alert (`DCCAlertMessage`, `S1SPAlertDSP`),
signed by the DCC and queued for the registered supplier of the meter's MPxN.

The relay polls each provider's alert feed as the DCC (a provider only reports meters whose
credentials the caller holds), so only adopted meters' alerts come through. Each alert's
ResponseID is derived from the provider, its sequence, device and time, so polling the same
alert again (after a restart) finds it already queued and queues nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree
from sqlalchemy import select

from opendcc.clock import Clock
from opendcc.duis.request import SR
from opendcc.duis.response import SCHEMA_VERSION, build_response, format_datetime
from opendcc.duis.response_codes import ResponseCode
from opendcc.duis.xmldsig import DS, sign
from opendcc.ids import EUI64, MPxN
from opendcc.smets1 import tables as t
from opendcc.smets1.adapters.base import ProviderAdapter, ProviderError
from opendcc.smets1.migration import DCC_ID
from opendcc.smets1.providers.estate import AlertKind, ProviderAlert
from opendcc.smets1.response import S1SPSigner
from opendcc.smets1.states import State
from opendcc.store import inventory, users
from opendcc.store import outbox as outbox_repo
from opendcc.store.engine import Store

#: The DCC Alert Code of a DCCAlertMessage carrying S1SPAlertDSP. The XSD lists the codes but
#: not which event each names; DUIS's DCC alert table does. Not checked against it here:
#: one place to change.
S1SP_DCC_ALERT_CODE: Final = "N42"

#: Provider alert kind -> S1SPAlertCode (an xs:string in DUIS 5.4) and the text given as
#: AdditionalInformation when the provider adds none.
S1SP_ALERT_CODES: Final[dict[AlertKind, tuple[str, str]]] = {
    AlertKind.POWER_OUTAGE: ("S1SP-POWER-OUTAGE", "supply to the meter lost"),
    AlertKind.POWER_RESTORED: ("S1SP-POWER-RESTORED", "supply to the meter restored"),
    AlertKind.TAMPER: ("S1SP-TAMPER", "tamper detected at the meter"),
    AlertKind.LOW_CREDIT: ("S1SP-LOW-CREDIT", "credit below the low credit threshold"),
    AlertKind.CREDIT_ADDED: ("S1SP-CREDIT-ADDED", "credit added by a UTRN"),
}

_NSMAP: Final = {"sr": SR, "ds": DS}


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


def s1sp_alert(alert: ProviderAlert, signer: S1SPSigner, *,
               request_id: str | None = None) -> etree._Element:
    """DUIS 5.4 `S1SPAlert` for one provider alert, enveloped-signed by the S1SP."""
    code, description = S1SP_ALERT_CODES[alert.kind]
    root = etree.Element(_sr("S1SPAlert"), nsmap=_NSMAP)
    root.set("schemaVersion", SCHEMA_VERSION)
    if request_id is not None:
        etree.SubElement(root, _sr("RequestID")).text = request_id
    etree.SubElement(root, _sr("DeviceID")).text = EUI64.parse(alert.device_id).hyphenated
    etree.SubElement(root, _sr("S1SPAlertCode")).text = code
    etree.SubElement(root, _sr("AdditionalInformation")).text = alert.detail or description
    if alert.utrn:
        etree.SubElement(root, _sr("UTRN")).text = alert.utrn
    etree.SubElement(root, _sr("DateTime")).text = format_datetime(alert.at)
    return sign(root, signer.private_key, signer.certificate)


def dcc_alert(signed: etree._Element, response_id: str, now: datetime) -> etree._Element:
    """The DCC's unsigned `sr:Response` with a DCCAlertMessage carrying `S1SPAlertDSP`."""
    root = build_response(None, ResponseCode.I0, now=now, service_reference=None, variant=None,
                          response_id=response_id)
    body = root.find(_sr("Body"))
    assert body is not None
    body.remove(body[0])  # an alert's Body holds the alert instead of a ResponseMessage
    message = etree.SubElement(body, _sr("DCCAlertMessage"))
    etree.SubElement(message, _sr("DCCAlertCode")).text = S1SP_DCC_ALERT_CODE
    dsp = etree.SubElement(etree.SubElement(message, _sr("DCCAlert")), _sr("S1SPAlertDSP"))
    dsp.append(signed)
    return root


def alert_counter(provider: str, alert: ProviderAlert) -> int:
    """A counter for the ResponseID fixed by the alert itself (the same alert polled twice gets
    the same one; a restarted provider's new alert 1 does not)."""
    key = f"{provider}|{alert.sequence}|{alert.device_id}|{alert.at.isoformat()}"
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=7).digest(), "big")


@dataclass(frozen=True, slots=True)
class Relayed:
    """What became of one provider alert: queued for `user`, a duplicate, or why not."""

    provider: str
    alert: ProviderAlert
    user: str | None = None
    response_id: str | None = None
    queued: bool = False
    reason: str | None = None  # why it was not delivered


class S1SPAlertRelay:
    """Polls providers' alert feeds as the DCC and queues each alert for the meter's supplier."""

    def __init__(self, store: Store, adapters: Mapping[str, ProviderAdapter], clock: Clock,
                 s1sp: S1SPSigner, dcc: S1SPSigner, *, dcc_id: str = DCC_ID) -> None:
        self.store = store
        self.adapters = adapters
        self.clock = clock
        self.s1sp = s1sp
        self.dcc = dcc
        self.dcc_id = dcc_id
        self.cursors: dict[str, int] = dict.fromkeys(adapters, 0)
        self.failures: dict[str, str] = {}  # provider -> why its last poll failed
        t.create_tables(store.engine)

    def poll(self) -> list[Relayed]:
        """One round over every provider's feed; a provider that fails is retried next round."""
        out: list[Relayed] = []
        for provider, adapter in self.adapters.items():
            try:
                alerts = adapter.alerts(self.dcc_id, self.cursors[provider])
            except ProviderError as exc:
                self.failures[provider] = exc.reason
                continue
            self.failures.pop(provider, None)
            for alert in alerts:
                out.append(self.relay(provider, alert))
                self.cursors[provider] = max(self.cursors[provider], alert.sequence)
        return out

    def relay(self, provider: str, alert: ProviderAlert) -> Relayed:
        """Sign, wrap and queue one alert for the registered supplier of its meter now."""
        now = self.clock.now()
        device_hex = EUI64.parse(alert.device_id).hex.upper()
        with self.store.begin() as conn:
            row = conn.execute(select(t.devices.c.state, t.devices.c.mpxn, t.devices.c.provider)
                               .where(t.devices.c.device_id == device_hex)).first()
            if row is None or row.state != State.MIGRATED or row.provider != provider:
                return Relayed(provider, alert, reason="not a meter the DCC adopted from this provider")
            registration = inventory.registration_at(conn, MPxN.parse(row.mpxn), now)
            if registration is None:
                return Relayed(provider, alert, reason=f"no registered supplier for MPxN {row.mpxn}")
            supplier = registration.supplier_id
            response_id = f"{EUI64.parse(self.dcc_id).hyphenated}:{supplier.hyphenated}:{alert_counter(provider, alert)}"
            message = dcc_alert(s1sp_alert(alert, self.s1sp), response_id, now)
            body = etree.tostring(sign(message, self.dcc.private_key, self.dcc.certificate),
                                  xml_declaration=True, encoding="UTF-8")
            user = users.get_user(conn, supplier)
            url = user.response_url if user is not None and user.response_url else ""
            queued = outbox_repo.enqueue(conn, request_id=response_id, user_id=supplier.hyphenated,
                                         url=url, body=body, now=now)
        return Relayed(provider, alert, supplier.hyphenated, response_id, queued)
