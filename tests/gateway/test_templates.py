"""Every DUIS template of the reference, signed by the DCC's own tool, POSTed to opendcc.

Acceptance (issue 3): each template is accepted, or rejected only for a documented reason.
Templates are whitespace-stripped first (the DCC tool signs what its schema parser keeps, see
the reference README) and given rising counters, so one gateway takes them all in order.
Every answer opendcc signs, synchronous or delivered later, passes the DCC tool's Validate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

import dcctool
from opendcc.config import reference_dir
from opendcc.core.commissioning import NON_DEVICE_HANDLERS as INVENTORY_CHANGING
from opendcc.duis import xmldsig
from opendcc.duis.catalogue import CommandVariant, ServiceRequestVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gateway.app import create_app
from opendcc.gateway.wiring import GatewayConfig, Services, build_services
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo

pytestmark = pytest.mark.java

TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*.XML"))
SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"


@dataclass(frozen=True)
class Reason:
    """A documented outcome: HTTP status, DUIS code (or None), and why."""

    status: int
    code: str | None
    why: str


ACCEPTED_SYNC = Reason(200, "I0", "non-device SRV answered from the store")
ACCEPTED_ASYNC = Reason(200, "I99", "device SRV over the WAN acknowledged; the device's answer "
                        "follows asynchronously (E20 until devices are reachable)")
ACCEPTED_TRANSFORM = Reason(200, "I0", "the DCC Transform returns the Pre-Command (CV 4) or the "
                            "command for local delivery (CV 2, 6)")
REASONS = {
    "not tabulated": Reason(501, None, "CommandNotTabulated: the DCC Transform has no command "
                            "table for this SRV (or this variant of its body) yet"),
    "non-device not provided": Reason(501, None, "only SRV 8.2 of the non-device SRVs is "
                                      "implemented; the others answer ServiceNotImplemented"),
    "lifecycle refuses": Reason(200, "E5", "the template's device is already in the inventory /"
                                " not Pending: the SMI lifecycle does not allow the change"),
    "originator is the DCC": Reason(200, "E1", "the DCC (90-B3-D5-1F-30-00-00-02) originates "
                                    "this template; it is not a DUIS user"),
    "expired certificate": Reason(401, None, "the DCC tool signs for 90-B3-D5-1F-30-03-00-00 "
                                  "with an xml-sign certificate that expired on 2025-12-22"),
}
# The DCC tool has no key for this template's originator (90-B3-D5-1F-30-01-00-08).
UNSIGNABLE = {"ECS47e_7.16_APC_OUTPUT_SUCCESS_REQUEST_DUIS.XML"}
DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
EXPIRED_SIGNERS = {EUI64.parse("90-B3-D5-1F-30-03-00-00")}


def expected(srv: ServiceRequestVariant, cv: int, originator: EUI64) -> list[Reason]:
    """The documented outcomes a template may have (device SRVs: accepted, or not tabulated in
    the Transform yet, which shrinks as its command tables grow)."""
    if originator in EXPIRED_SIGNERS:
        return [REASONS["expired certificate"]]
    if originator == DCC:
        return [REASONS["originator is the DCC"]]
    if srv.non_device and srv.variant in INVENTORY_CHANGING:
        return [ACCEPTED_SYNC, REASONS["lifecycle refuses"]]
    if srv.non_device:
        return [ACCEPTED_SYNC if srv.variant == "8.2" else REASONS["non-device not provided"]]
    accepted = ACCEPTED_TRANSFORM if cv in (2, 4, 6) else ACCEPTED_ASYNC
    return [accepted, REASONS["not tabulated"]]


def _prepared(index: int, path: Path) -> bytes:
    root = parse_xml(path.read_bytes())
    xmldsig.strip_whitespace(root)
    node = root.find(f"{SR}Header/{SR}RequestID")
    assert node is not None and node.text
    originator, target, _ = node.text.split(":")
    node.text = f"{originator}:{target}:{10_000 + index}"  # rising: one gateway takes them all
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


@cache
def _signed() -> dict[str, bytes]:
    signable = [(i, p) for i, p in enumerate(TEMPLATES) if p.name not in UNSIGNABLE]
    signed = dcctool.parallel_map(lambda ip: dcctool.sign(_prepared(*ip)), signable)
    return {p.name: s for (_, p), s in zip(signable, signed, strict=True)}


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    svc = build_services(GatewayConfig(store_url="sqlite://", smki_url="sqlite://"))
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def http(services: Services) -> TestClient:
    return TestClient(create_app(services=services))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_signed_by_the_dcc_tool_is_accepted_or_rejected_for_a_documented_reason(
    template: Path, http: TestClient, services: Services
) -> None:
    if template.name in UNSIGNABLE:
        with pytest.raises(dcctool.DccToolError):
            dcctool.sign(_prepared(0, template))
        return
    signed = _signed()[template.name]
    request = read_request(parse_xml(signed))
    srv = load_catalogue().get(request.service_reference_variant)
    reasons = expected(srv, request.command_variant, request.request_id.originator)
    endpoint = CommandVariant(request.command_variant).endpoint
    reply = http.post(f"/api/v1/{endpoint}", content=signed,
                      headers={"Content-Type": "application/xml"})
    if srv.variant in INVENTORY_CHANGING:
        seed_demo(services.store)  # e.g. 8.3 decommissioned the ESME the later templates address
    matching = [r for r in reasons if r.status == reply.status_code
                and (r.code is None or len(reasons) == 1 or f">{r.code}<" in reply.text)]
    assert matching, f"HTTP {reply.status_code}, expected {reasons}: {reply.text[:300]}"
    reason = matching[0]
    if reason.code is None:
        if reason is REASONS["not tabulated"]:
            assert "CommandNotTabulated" in reply.text, reply.text
        return
    root = etree.fromstring(reply.content)
    assert root.findtext(f"{SR}Header/{SR}ResponseCode") == reason.code, reason.why
    if reason is ACCEPTED_TRANSFORM:
        message = root.find(f"{SR}Body/{SR}ResponseMessage")
        assert message is not None
        assert message.find(f"{SR}PreCommand" if request.command_variant == 4
                            else f"{SR}LocalCommand") is not None
    ok, diagnostics = dcctool.validate(reply.content)
    assert ok, diagnostics


def test_every_async_response_opendcc_delivers_passes_the_dcc_tool(
    services: Services, http: TestClient
) -> None:
    for signed in _signed().values():  # replays (409) when the test above already sent them
        cv = read_request(parse_xml(signed)).command_variant
        http.post(f"/api/v1/{CommandVariant(cv).endpoint}", content=signed,
                  headers={"Content-Type": "application/xml"})
    delivered: list[bytes] = []
    services.worker.post = lambda _url, body: delivered.append(body) or 204
    services.worker.response_url = lambda _user: "http://receiver.invalid/"
    while services.worker.run_once().delivered:
        pass
    assert delivered, "the device templates should have queued async responses"
    for body in delivered:
        ok, diagnostics = dcctool.validate(body)
        assert ok, diagnostics
