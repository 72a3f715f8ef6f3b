"""Support for the device-SRV end-to-end tests: a gateway with the emulated estate behind the
WAN on a simulated clock, signing with the users' own keys, and the outbox read back.

(No tests here; the name keeps it with the tests it serves.)
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from lxml import etree

from opendcc.client.builder import build_request
from opendcc.client.correlate import correlate, sign_pre_command
from opendcc.clock import SimulatedClock
from opendcc.config import reference_dir
from opendcc.core.alerts import registered_parties
from opendcc.core.dcc_schedules import attach_stored_schedules
from opendcc.core.device_layer import DeviceSide, demo_device_side
from opendcc.core.service import DataService
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import DeviceGbcsEndpoint
from opendcc.duis import xmldsig
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import SR as SR_NS
from opendcc.duis.request import read_request
from opendcc.gateway.app import create_app
from opendcc.gateway.wiring import GatewayConfig, Services, build_services
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import open_store

SR = f"{{{SR_NS}}}"
TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*.XML"))
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
ESME = "00-DB-12-34-56-78-90-A0"
#: Long enough for any command to complete: GSME wake-up and the WAN's deadlines included.
SETTLE_S = 2 * 3600


@dataclass
class Dcc:
    """A gateway over the emulated estate, on a simulated clock; async answers kept here."""

    clock: SimulatedClock
    side: DeviceSide
    services: Services
    http: TestClient
    keys: KeyStore
    delivered: dict[str, list[bytes]] = field(default_factory=dict)
    alerts: list[tuple[str, bytes]] = field(default_factory=list)  # (user, message)

    def post(self, body: bytes, endpoint: str | None = None) -> etree._Element:
        """POST a signed request to its Command Variant's endpoint; the synchronous answer."""
        if endpoint is None:
            endpoint = CommandVariant(read_request(parse_xml(body)).command_variant).endpoint
        reply = self.http.post(f"/api/v1/{endpoint}", content=body,
                               headers={"Content-Type": "application/xml"})
        assert reply.status_code == 200, f"HTTP {reply.status_code}: {reply.text[:400]}"
        return etree.fromstring(reply.content)

    def settle(self, seconds: float = SETTLE_S) -> None:
        """Let simulated time pass, then drain the outbox into `delivered` / `alerts`."""
        self.clock.advance(seconds)
        while self.services.worker.run_once().delivered:
            pass

    def answers(self, request_id: str) -> list[etree._Element]:
        """The async DUIS answers delivered for a request, in order."""
        return [etree.fromstring(b) for b in self.delivered.get(request_id, [])]

    def sign(self, root: etree._Element) -> bytes:
        """Sign with the originator's DUIS XML signing key (as the DCC tool does)."""
        originator = read_request(root).request_id.originator
        cred = self.keys.xml_signing(originator)
        assert cred is not None and cred.private_key is not None, originator
        xmldsig.sign(root, cred.private_key, cred.certificate)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def fresh_estate(self) -> None:
        """A new demo estate behind the same DCC (same device IDs and credentials)."""
        side = self.side
        estate = Estate.demo(0, seed=side.estate.seed, clock=self.clock,
                             alert_sink=side.estate.wan.alert_sink)
        side.estate = side.router.estate = estate
        side.router.endpoint = DeviceGbcsEndpoint(estate, side.keys, self.clock)

    def own_request(self, root: etree._Element) -> tuple[bytes, etree._Element]:
        """A request the DCC originates itself (the RTDS templates from 90-B3-D5-1F-30-00-00-02:
        6.24.1, 8.12.2, 11.2): the DCC is not a DUIS user of its own gateway (E1 there), so the
        request, signed with the DCC's XML signing key from the reference keys, goes straight to
        the Data Service's device layer (Transform, WAN, device), as the DCC's own processes
        would send it; the signed request and the (unsigned, internal) synchronous answer."""
        request = read_request(root)
        body = self.sign(root)
        srv = load_catalogue().for_request(request.service_reference,
                                           request.service_reference_variant)
        with self.services.store.begin() as conn:
            device = inventory_repo.get_device(conn, request.request_id.target)
        assert device is not None, request.request_id.target
        return body, self.side.layer.submit(request, srv, device, self.clock.now()).sync

    def register_supplier(self, device_id: EUI64, supplier: EUI64) -> bool:
        """Make `supplier` the registered supplier, from now, of the meter points whose parties
        may address `device_id`, as a template that supplier sends presumes (e.g. an unknown
        remote party: registered at the DCC, not yet on the device); False if it already was."""
        now = self.clock.now()
        changed = False
        with self.services.store.begin() as conn:
            device = inventory_repo.get_device(conn, device_id)
            for mpxn in inventory_repo.responsible_mpxns(conn, device) if device else ():
                current = inventory_repo.registration_at(conn, mpxn, now)
                if current is not None and current.supplier_id != supplier:
                    inventory_repo.register(conn, replace(current, supplier_id=supplier,
                                                          effective_from=now))
                    changed = True
        return changed

    def critical(self, transform_request: bytes, counter: int,
                 variant: int = CommandVariant.SIGNED_SEND,
                 answer: etree._Element | None = None) -> bytes:
        """serviceT (CV 4, unless its `answer` is given), correlate and GBCS-sign the
        Pre-Command; the signed CV 5-7 request that sends it back (not yet sent)."""
        if answer is None:
            answer = self.post(transform_request, "serviceT")
        assert code_of(answer) == "I0", etree.tostring(answer)[:600]
        payload = answer.findtext(f"{SR}Body/{SR}ResponseMessage/{SR}PreCommand/{SR}GBCSPayload")
        assert payload
        pre_command = base64.b64decode(payload)
        request = read_request(parse_xml(transform_request))
        signed = sign_pre_command(pre_command, correlate(request, pre_command), self.keys)
        rid = RequestID(request.request_id.originator, request.request_id.target, counter)
        root = build_request(rid, load_catalogue().get(request.service_reference_variant), variant,
                             {"SignedPreCommand": {"GBCSPayload": base64.b64encode(signed).decode()}})
        return self.sign(root)


def make_dcc(premises: int = 0, start: datetime = T0, *, store_url: str = "sqlite://") -> Dcc:
    """The DCC and its emulated estate on a simulated clock that starts at `start`, its store
    at `store_url` (a private in-memory database unless given: a second `make_dcc` over the
    same file or PostgreSQL database is the DCC restarted)."""
    clock = SimulatedClock(start)
    reference = KeyStore.from_reference()
    side = demo_device_side(clock, reference, premises=premises)
    store = open_store(store_url)
    service = DataService(store, load_catalogue(), clock, devices=side.layer)
    services = build_services(GatewayConfig(store_url="sqlite://", smki_url="sqlite://",
                                            clock=clock), service=service, store=store)
    side.connect(services.deliver, registered_parties(store, clock.now))
    side.follow_inventory(store)  # as `opendcc serve` does: 8.1.1, 8.7, 8.11 move the inventory
    attach_stored_schedules(side.layer, store)  # as `opendcc serve` does: 5.1-5.3 in the store
    dcc = Dcc(clock, side, services, TestClient(create_app(services=services)), side.keys)

    def post(url: str, body: bytes) -> int:
        root = etree.fromstring(body)
        rid = root.findtext(f"{SR}Header/{SR}RequestID")
        if rid:
            dcc.delivered.setdefault(rid, []).append(body)
        else:
            dcc.alerts.append((url.rsplit("/", 1)[-1], body))
        return 204

    services.worker.post = post
    services.worker.response_url = lambda user: f"http://receiver.invalid/{user}"
    return dcc


def code_of(root: etree._Element) -> str | None:
    return root.findtext(f"{SR}Header/{SR}ResponseCode")


def prepared(path: Path, counter: int, now: datetime) -> etree._Element:
    """A template without formatting whitespace, with `counter` in its RequestID and any
    ExecutionDateTime moved to one hour after `now` (the templates' dates are years ahead;
    3000-12-31, which cancels a future-dated command, is kept)."""
    text = path.read_text(encoding="utf-8")
    later = now.replace(microsecond=0) + (datetime(2000, 1, 1, 1, tzinfo=UTC)
                                          - datetime(2000, 1, 1, tzinfo=UTC))
    text = re.sub(r"<sr:ExecutionDateTime>(?!3000-12-31)[^<]*</sr:ExecutionDateTime>",
                  f"<sr:ExecutionDateTime>{later.strftime('%Y-%m-%dT%H:%M:%SZ')}"
                  "</sr:ExecutionDateTime>", text)
    root = parse_xml(text.encode())
    xmldsig.strip_whitespace(root)
    node = root.find(f"{SR}Header/{SR}RequestID")
    assert node is not None and node.text
    originator, target, _ = node.text.split(":")
    node.text = f"{originator}:{target}:{counter}"
    return root
