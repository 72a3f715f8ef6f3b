"""Change of supplier scripted by the gaining supplier over HTTP: the registration feed through
`POST /admin/registrations`, then the SDK's `Switcher` sending SRV 6.23 for each meter (FastAPI
TestClient, the Data Service, the emulated DCC Boxed premises behind the SM WAN), and the CLI's
`opendcc switch register|duis` doing the same.

Supplier B's ZAZ1 XML-signing certificate expired on 2025-12-22, so the gateway checks
certificates a year back (`YearAgo`), as in test_change_of_supplier_http.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from core_requests import template
from cos_support import client_for, http_gateway
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opendcc.cli import install_cmds
from opendcc.cli.main import app as cli
from opendcc.client.switch import (
    RegistrationRejected,
    Switcher,
    SwitchRefused,
    send_registration_feed,
)
from opendcc.core.device_layer import DeviceSide
from opendcc.devices.gsme import CONTACT_INTERVAL
from opendcc.devices.load_model import EPOCH
from opendcc.devices.security import RemotePartyRole
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gateway.wiring import Services
from opendcc.ids import EUI64, MPxN
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory as inventory_repo

A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = "90-B3-D5-1F-30-02-00-00"
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
GSME = EUI64.parse("00-DB-12-34-56-78-90-A1")
POINTS = ("1312345678111", "1312345678222", "1312345678333", "1000999888")
HEADER = "mpxn,supplier_id,network_operator_id,effective_from\n"


@pytest.fixture
def gateway() -> Iterator[tuple[Services, DeviceSide, TestClient]]:
    with http_gateway() as parts:
        yield parts


_client = client_for


def _suppliers(services: Services, now: datetime) -> list[str]:
    with services.store.connect() as conn:
        return [str(r.supplier_id) if (r := inventory_repo.registration_at(
            conn, MPxN.parse(p), now)) else "-" for p in POINTS]


def _to_b_shortly(side: DeviceSide) -> tuple[str, datetime]:
    """A feed registering B for every point of the premises a moment from now (a change is
    never dated in the past), and that moment."""
    at = side.router.clock.now() + timedelta(seconds=2)
    return HEADER + "".join(f"{p},{B},{DNO},{at.isoformat()}\n" for p in POINTS), at


def _wait_until(at: datetime, side: DeviceSide) -> None:
    while side.router.clock.now() <= at:
        time.sleep(0.05)


def _wake_gsme_soon(side: DeviceSide) -> None:
    # The battery-powered GSME takes its CS02b when it next wakes: in 2 s, not up to 30 min.
    gsme = side.estate.device(GSME.hyphenated)
    since = (side.router.clock.now() - EPOCH).total_seconds()
    gsme.contact_phase_s = int(since + 2) % int(CONTACT_INTERVAL.total_seconds())


def _anchor(side: DeviceSide, meter: EUI64) -> str:
    return str(side.estate.device(meter.hyphenated).anchors.get(RemotePartyRole.SUPPLIER).entity)


def test_the_gaining_supplier_switches_the_premises_with_the_sdk(
    gateway: tuple[Services, DeviceSide, TestClient], tmp_path: Path,
) -> None:
    services, side, http = gateway
    read = read_request(parse_xml(template("ECS17b_4.1.1_SINGLE").read_bytes())).body
    with _client(A, http, tmp_path) as a, _client(B, http, tmp_path) as b:
        # Before the registration changes B is not the registered supplier: E4, nothing sent.
        with pytest.raises(SwitchRefused) as refused:
            Switcher(b).switch(ESME, POINTS[0])
        assert refused.value.code == "E4" and "registered" in str(refused.value)
        assert _anchor(side, ESME) == A.hyphenated

        feed, at = _to_b_shortly(side)
        assert send_registration_feed("http://testserver", feed, http=http) == len(POINTS)
        _wait_until(at, side)
        assert _suppliers(services, side.router.clock.now()) == [B.hyphenated] * len(POINTS)

        # The losing supplier cannot switch the meter to itself (E4 at the DCC).
        with pytest.raises(SwitchRefused) as refused:
            Switcher(a).switch(ESME, POINTS[0])
        assert refused.value.code == "E4"
        # B naming a meter point that is not the meter's: E4 too.
        with pytest.raises(SwitchRefused) as refused:
            Switcher(b).switch(ESME, POINTS[3])
        assert refused.value.code == "E4"

        switcher = Switcher(b, device_keys=side.keys)  # each meter's Response verified too
        assert switcher.meters_at(POINTS[3]) == [GSME.hyphenated]
        _wake_gsme_soon(side)
        done = switcher.switch_all([(ESME, POINTS[0]), (GSME, POINTS[3])])
        assert [(m, r.response_code) for m, r in done] == [
            (ESME.hyphenated, "I0"), (GSME.hyphenated, "I0")]
        assert _anchor(side, ESME) == B.hyphenated and _anchor(side, GSME) == B.hyphenated

        assert b.request("4.1.1", read, target=ESME).response_code == "I0"
        assert a.submit("4.1.1", read, target=ESME).response_code == "E4"


def test_a_switcher_without_certificates_or_path_says_what_is_missing(
    gateway: tuple[Services, DeviceSide, TestClient], tmp_path: Path,
) -> None:
    _services, _side, http = gateway
    with _client(B, http, tmp_path) as b:
        with pytest.raises(SwitchRefused, match="certification path"):
            Switcher(b, certification_path=[]).switch(ESME, POINTS[0])
        with pytest.raises(SwitchRefused, match=r"not-a-meter-point"):
            Switcher(b).switch(ESME, "not-a-meter-point")


@pytest.mark.parametrize(("feed", "problem"), [
    ("mpxn,supplier\n1312345678111,90-B3-D5-1F-30-03-00-00\n", "line 1: the header"),
    (HEADER + f"1312345678111,{B},{DNO},2030-01-01\nABC123,{B},{DNO},2030-01-01\n", "line 3"),
    (HEADER + f"1312345678111,90-B3-D5-1F-30-99-00-00,{DNO},2030-01-01\n", "is not a DUIS user"),
    (HEADER + f"1312345678111,{B},{DNO},2021-03-04T05:06:07\n", "in the past"),
    (HEADER + f"1312345678111,{B},{DNO},2030-01-01\n1312345678111,{A},{DNO},2030-01-01\n",
     "already has supplier"),
    (HEADER + f"1312345678111,{B},{DNO},not-a-date\n", "line 2"),
])
def test_a_bad_registration_feed_is_400_naming_the_problem_and_changes_nothing(
    gateway: tuple[Services, DeviceSide, TestClient], feed: str, problem: str,
) -> None:
    services, side, http = gateway
    later = side.router.clock.now() + timedelta(days=4000)
    before = _suppliers(services, later)
    reply = http.post("/admin/registrations", content=feed.encode(),
                      headers={"Content-Type": "text/csv"})
    assert reply.status_code == 400
    assert problem in reply.json()["detail"] and "nothing applied" in reply.json()["detail"]
    assert _suppliers(services, later) == before == [A.hyphenated] * len(POINTS)
    with pytest.raises(RegistrationRejected, match=problem):
        send_registration_feed("http://testserver", feed, http=http)


def test_a_registration_feed_must_be_csv_text(
    gateway: tuple[Services, DeviceSide, TestClient],
) -> None:
    services, _side, http = gateway
    feed = (HEADER + f"1312345678111,{B},{DNO},2030-01-01\n").encode()
    reply = http.post("/admin/registrations", content=feed,
                      headers={"Content-Type": "application/json"})
    assert reply.status_code == 415
    reply = http.post("/admin/registrations", content=b"\xff\xfe" + feed,
                      headers={"Content-Type": "text/csv"})
    assert reply.status_code == 400 and "UTF-8" in reply.json()["detail"]
    later = datetime(2030, 6, 1, tzinfo=UTC)
    assert _suppliers(services, later) == [A.hyphenated] * len(POINTS)
    reply = http.post("/admin/registrations", content=feed,
                      headers={"Content-Type": "text/csv; charset=utf-8"})
    assert reply.status_code == 200 and reply.json() == {"applied": 1}
    assert _suppliers(services, later)[0] == B.hyphenated


def test_the_cli_registers_the_change_and_switches_by_meter_point(
    gateway: tuple[Services, DeviceSide, TestClient], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _services, side, http = gateway
    monkeypatch.setattr(install_cmds, "make_client",
                        lambda user, _url: _client(EUI64.parse(user), http, tmp_path))
    monkeypatch.setattr(install_cmds, "make_http", lambda: http)
    runner = CliRunner()
    feed_text, at = _to_b_shortly(side)
    feed = tmp_path / "feed.csv"
    feed.write_text(feed_text, encoding="utf-8")
    result = runner.invoke(cli, ["switch", "register", str(feed), "--url", "http://testserver"])
    assert result.exit_code == 0, result.output
    assert f"{len(POINTS)} registration records applied" in result.output
    _wait_until(at, side)

    result = runner.invoke(cli, ["switch", "duis", POINTS[0], "--supplier", str(A),
                                 "--url", "http://testserver"])
    assert result.exit_code == 1 and "E4" in result.output

    result = runner.invoke(cli, ["switch", "duis", POINTS[0], "--supplier", str(B),
                                 "--url", "http://testserver"])
    assert result.exit_code == 0, result.output
    assert f"I0   6.23 {ESME.hyphenated} {POINTS[0]}" in result.output
    assert _anchor(side, ESME) == B.hyphenated

    bad = tmp_path / "bad.csv"
    bad.write_text("mpxn\n1\n", encoding="utf-8")
    result = runner.invoke(cli, ["switch", "register", str(bad), "--url", "http://testserver"])
    assert result.exit_code == 1 and "line 1" in result.output


def test_a_meter_refusing_the_certificates_is_a_refused_switch(
    gateway: tuple[Services, DeviceSide, TestClient], tmp_path: Path,
) -> None:
    """CA certificates that did not issue the supplier's: the meter replaces nothing and says
    so in its Response (statusCode per certificate, under DUIS I0); the switch is refused,
    anchors kept. A Response whose device signature does not verify is refused too."""
    _services, side, http = gateway
    with _client(A, http, tmp_path) as a:
        own = KeyStore.from_reference().certificate(A, "ds")
        assert own is not None
        with pytest.raises(SwitchRefused) as refused:
            Switcher(a, certification_path=[own]).switch(ESME, POINTS[0])
        assert refused.value.code == "I0" and "replaced nothing" in str(refused.value)
        assert _anchor(side, ESME) == A.hyphenated
        # A Response checked against keys that are not the meter's (the reference key store
        # holds the RTDS certificate of this EUI-64, not the emulated meter's): refused.
        with pytest.raises(SwitchRefused, match="does not decode or verify"):
            Switcher(a, device_keys=KeyStore.from_reference()).switch(ESME, POINTS[0])
        assert Switcher(a, device_keys=side.keys).switch(ESME, POINTS[0]).response_code == "I0"


def test_the_cli_names_its_bad_input(
    gateway: tuple[Services, DeviceSide, TestClient], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    from opendcc.client.switch import load_certificates

    _services, side, http = gateway
    monkeypatch.setattr(install_cmds, "make_client",
                        lambda user, _url: _client(EUI64.parse(user), http, tmp_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["switch", "duis", POINTS[0], POINTS[3], "--meter",
                                 ESME.hyphenated, "--supplier", str(A)])
    assert result.exit_code == 2 and "exactly one MPxN" in result.output
    # A CA certificate that did not issue A's: the meter replaces nothing.
    own = KeyStore.from_reference().certificate(A, "ds")
    assert own is not None
    pem, der = tmp_path / "ca.pem", tmp_path / "ca.der"
    pem.write_bytes(own.public_bytes(Encoding.PEM) * 2)
    der.write_bytes(own.public_bytes(Encoding.DER))
    assert load_certificates([pem, der]) == [own, own, own]
    result = runner.invoke(cli, ["switch", "duis", POINTS[0], "--meter", ESME.hyphenated,
                                 "--path-cert", str(der), "--supplier", str(A)])
    assert result.exit_code == 1 and "replaced nothing" in result.output
    assert _anchor(side, ESME) == A.hyphenated
    result = runner.invoke(cli, ["switch", "duis", "1399999999999", "--supplier", str(A)])
    assert result.exit_code == 1 and "8.2 Read Inventory 1399999999999: E19" in result.output
    result = runner.invoke(cli, ["switch", "register", str(tmp_path / "missing.csv")])
    assert result.exit_code == 1 and "missing.csv" in result.output
