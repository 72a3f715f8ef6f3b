"""Change of supplier with the device layer wired: DataService, DCC Transform, SM WAN and the
emulated DCC Boxed premises answering in GBCS (`core.device_layer.serve_device_side`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from core_requests import request_from, template
from cos_support import path_of, tcos
from lxml import etree

from opendcc.clock import SimulatedClock
from opendcc.core.change_of_supplier import (
    TRANSITIONAL_COS,
    check_switched,
    request_switch,
    run_switches,
)
from opendcc.core.device_layer import serve_device_side
from opendcc.core.routing import RoutedCommand
from opendcc.core.service import DataService
from opendcc.core.transform import transform
from opendcc.core.transitional_cos import cos_request
from opendcc.devices.security import RemotePartyRole
from opendcc.duis.request import SR, DuisRequest
from opendcc.duis.response_codes import NotRegisteredParty
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.registration_feed import apply_feed
from opendcc.smki.keystore import KeyStore
from opendcc.store.engine import open_store

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = "90-B3-D5-1F-30-02-00-00"
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
GSME = EUI64.parse("00-DB-12-34-56-78-90-A1")
# Every meter point of the premises: the ESME's import, twin and export MPANs, the MPRN.
POINTS = ("1312345678111", "1312345678222", "1312345678333", "1000999888")


class Wired:
    """A Data Service with the DCC Boxed premises behind it and what it delivered."""

    def __init__(self) -> None:
        self.clock = SimulatedClock(NOW)
        self.store = open_store("sqlite://")
        self.service, self.side = serve_device_side(self.store, KeyStore.from_reference(),
                                                    premises=0, clock=self.clock)
        self.delivered: list[tuple[EUI64, etree._Element]] = []
        self.side.connect(lambda user, message: self.delivered.append((user, message)))
        self.counter = 5000

    def read(self, user: EUI64) -> DuisRequest:
        self.counter += 1
        return request_from(template("ECS17b_4.1.1_SINGLE"),
                            request_id=f"{user}:{ESME}:{self.counter}")

    def answers(self) -> list[tuple[EUI64, str | None]]:
        self.clock.advance(120)
        out = [(u, m.findtext(f"{{{SR}}}Header/{{{SR}}}ResponseCode")) for u, m in self.delivered]
        self.delivered.clear()
        return out


@pytest.fixture
def wired() -> Iterator[Wired]:
    w = Wired()
    yield w
    w.store.close()


def _handle(service: DataService, request: DuisRequest) -> str:
    return service.handle(request, request.request_id.originator, "serviceS").code


def test_after_cos_the_new_supplier_reads_and_the_old_one_is_refused_at_dcc_and_device(
    wired: Wired,
) -> None:
    side = wired.side
    assert _handle(wired.service, wired.read(A)) == "I99"
    assert wired.answers() == [(A, "I0")]  # the ESME's GBCS response
    # A command A had the DCC build before the switch, to replay at the device afterwards.
    stale = transform(wired.read(A), now=wired.clock.now(), counter=side.layer.counter(),
                      keys=side.keys, device_type="ESME")

    at = NOW + timedelta(hours=1)
    feed = "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
        f"{p},{B},{DNO},{at.isoformat()}\n" for p in POINTS)
    with wired.store.begin() as conn:
        apply_feed(conn, feed, wired.clock.now())
    wired.clock.advance(3600)
    # B's SRV 6.23 for each meter: CS02b signed by the Transitional CoS party, over the WAN.
    credentials = tcos(side, lambda user, message: wired.delivered.append((user, message)))
    with wired.store.begin() as conn:
        request_switch(conn, B, MPxN.parse(POINTS[0]), wired.clock.now())
    run_switches(wired.store, credentials, wired.clock.now())
    assert check_switched(wired.store, credentials, wired.clock.now()) == []
    assert credentials.supplier_anchor(ESME) == B and credentials.supplier_anchor(GSME) == B
    assert credentials.commands_sent == 2
    assert wired.answers() == [(B, "I0"), (B, "I0")]  # each meter's CS02b Response, to B
    for device in (ESME, GSME):  # the devices took B's certificates, and TCoS is still TCoS
        anchors = side.estate.device(device.hyphenated).anchors
        assert anchors.get(RemotePartyRole.SUPPLIER).certificate is not None
        assert anchors.get(RemotePartyRole.TRANSITIONAL_COS).entity == TRANSITIONAL_COS.hyphenated

    assert _handle(wired.service, wired.read(B)) == "I99"
    assert wired.answers() == [(B, "I0")]
    with pytest.raises(NotRegisteredParty):
        _handle(wired.service, wired.read(A))
    # A's command reaching the device anyway is discarded there: A gets E21, no response.
    side.router.send(stale.gbcs, RoutedCommand(wired.read(A).request_id, "4.1", "4.1.1"))
    assert wired.answers() == [(A, "E21")]
    assert side.router.counts.last_refusal is not None
    assert "NotAuthorised" in side.router.counts.last_refusal[1]


def test_the_new_supplier_sends_6_23_itself_and_the_old_one_is_refused(wired: Wired) -> None:
    """SRV 6.23 over DUIS: access control lets only the registered supplier through (E4 for
    the old one); the DCC's Transitional CoS party signs the CS02b; the meter's Response
    reaches the new supplier, and the meter trusts it."""
    side = wired.side
    at = NOW + timedelta(hours=1)
    feed = "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
        f"{p},{B},{DNO},{at.isoformat()}\n" for p in POINTS)
    with wired.store.begin() as conn:
        apply_feed(conn, feed, wired.clock.now())
    wired.clock.advance(3600)
    mpan = MPxN.parse(POINTS[0])
    old = cos_request(A, ESME, mpan, 9001, side.keys, path_of(A))
    with pytest.raises(NotRegisteredParty):  # A is no longer the registered supplier: E4
        wired.service.handle(old, A, "serviceS")
    elsewhere = cos_request(B, ESME, MPxN.parse("1399999999999"), 9003, side.keys, path_of(B))
    with pytest.raises(NotRegisteredParty, match="not a meter point"):  # not this meter's: E4
        wired.service.handle(elsewhere, B, "serviceS")
    assert wired.answers() == []  # nothing was sent
    new = cos_request(B, ESME, mpan, 9002, side.keys, path_of(B))
    assert wired.service.handle(new, B, "serviceS").code == "I99"
    assert wired.answers() == [(B, "I0")]
    esme = side.estate.device(ESME.hyphenated)
    assert esme.anchors.get(RemotePartyRole.SUPPLIER).entity == B.hyphenated
