"""Bad GBCS commands: each is discarded or refused as GBCS specifies, and the device's state
(supply, counters, tariff) does not change."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from devices.gbcs.sites import Site, payload_view, rtds
from opendcc.client.parse import parse
from opendcc.devices.errors import NotAuthorised, NotOnWhitelist, ReplayedCounter, UnknownDevice
from opendcc.devices.gbcs import MalformedCommand, NotACommand, UnsupportedUseCase
from opendcc.devices.security import RemotePartyRole, TrustAnchor
from opendcc.devices.supply import SupplyState
from opendcc.gbcs import codec
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.payloads import payload_json
from opendcc.ids import EUI64

ESME = "00-DB-12-34-56-78-90-A0"
DISABLE = "ECS43_7.2_SUCCESS_COMMAND_GBCS.HEX"  # critical: signed by the supplier
READ_SUPPLY = "ECS45_7.4_SUCCESS_COMMAND_GBCS.HEX"  # non-critical: MACed by the ACB
NEW_SUPPLIER = "90-B3-D5-1F-30-01-00-08"


def state(site: Site) -> tuple[object, ...]:
    esme: Any = site.estate.device(ESME)
    counters = dict(esme.counters._highest) if esme.counters else {}
    return esme.supply_state, esme.tariff, counters


def test_replayed_counter_is_refused(site: Site) -> None:
    command = site.command(rtds(DISABLE))
    site.endpoint.handle(command)
    site.estate.device(ESME).enable_supply(site.clock.now())  # type: ignore[attr-defined]
    before = state(site)
    with pytest.raises(ReplayedCounter):
        site.endpoint.handle(command)
    assert state(site) == before
    assert state(site)[0] is SupplyState.ENABLED


def test_a_lower_counter_than_one_seen_is_refused(site: Site) -> None:
    site.endpoint.handle(site.command(rtds(READ_SUPPLY), counter=5 * 10**12))
    before = state(site)
    with pytest.raises(ReplayedCounter):
        site.endpoint.handle(site.command(rtds(DISABLE), counter=4 * 10**12))
    assert state(site) == before


def test_bad_mac_is_refused_and_logged(site: Site) -> None:
    octets = bytearray(site.command(rtds(READ_SUPPLY)))
    octets[-1] ^= 0x01
    before = state(site)
    with pytest.raises(NotAuthorised, match="MAC"):
        site.endpoint.handle(bytes(octets))
    assert state(site) == before
    assert site.estate.device(ESME).security_log is not None


def test_tampered_signed_command_is_refused(site: Site) -> None:
    signed = codec.decode(site.command(rtds(DISABLE)))
    apdu = signed.apdu
    tampered = dataclasses.replace(apdu, originator_counter=apdu.originator_counter + 1)
    before = state(site)
    with pytest.raises(NotAuthorised, match="signature"):
        site.endpoint.handle(bytes(tampered))
    assert state(site) == before


def test_old_supplier_is_refused_after_change_of_supplier(site: Site) -> None:
    """CS02b has replaced the supplier anchor: the old supplier's signed command is refused,
    the new supplier's is executed."""
    esme = site.estate.device(ESME)
    esme.anchors = esme.anchors.with_anchor(RemotePartyRole.SUPPLIER, TrustAnchor(NEW_SUPPLIER))
    before = state(site)
    with pytest.raises(NotAuthorised, match="not a remote party"):
        site.endpoint.handle(site.command(rtds(DISABLE)))
    assert state(site) == before
    msg = rtds(DISABLE)
    apdu = dataclasses.replace(msg.apdu, originator=EUI64.parse(NEW_SUPPLIER))
    [response] = site.endpoint.handle(site.command(dataclasses.replace(msg, frame=apdu)))
    assert parse(response, keys=site.keys.supplier_side).success
    assert state(site)[0] is SupplyState.DISABLED


def test_command_for_a_device_not_on_the_hub_whitelist_is_not_delivered(site: Site) -> None:
    chf: Any = site.estate.device("00-DB-12-34-56-78-90-A2")
    chf.remove_device_from_device_log(ESME, site.clock.now())
    before = state(site)
    with pytest.raises(NotOnWhitelist):
        site.endpoint.handle(site.command(rtds(DISABLE)))
    assert state(site) == before


def test_command_for_an_unknown_device_is_not_delivered(site: Site) -> None:
    msg = rtds(READ_SUPPLY)
    assert isinstance(msg.frame, GeneralCiphering)
    apdu = dataclasses.replace(msg.apdu, recipient=EUI64.parse("00-DB-12-34-56-78-90-FF"))
    frame = dataclasses.replace(msg.frame, apdu=apdu)
    with pytest.raises(UnknownDevice):
        site.endpoint.handle(bytes(frame))


@pytest.mark.parametrize("octets", [b"", b"\xdd", b"\x00\x01\x02", bytes(70000)],
                         ids=["empty", "truncated", "not-gbcs", "oversize"])
def test_octets_that_are_not_gbcs_are_discarded(site: Site, octets: bytes) -> None:
    before = state(site)
    with pytest.raises(MalformedCommand):
        site.endpoint.handle(octets)
    assert state(site) == before


def test_an_unsigned_precommand_is_not_executed(site: Site) -> None:
    pre = rtds("ECS43_7.2_SUCCESS_PRECOMMAND_GBCS.HEX")
    with pytest.raises(NotACommand):
        site.endpoint.handle(bytes(pre.frame))
    assert state(site)[0] is SupplyState.ENABLED


def test_a_response_is_not_a_command(site: Site) -> None:
    with pytest.raises(NotACommand):
        site.endpoint.handle(bytes(rtds("ECS45_7.4_SUCCESS_RESPONSE_GBCS.HEX").frame))


def test_a_use_case_the_devices_do_not_serve_is_discarded(site: Site) -> None:
    with pytest.raises(UnsupportedUseCase):
        site.endpoint.handle(site.command(rtds("GCS07_3.1_SUCCESS_COMMAND_GBCS.HEX")))


def test_a_refused_command_gets_the_failure_response_and_changes_nothing(site: Site) -> None:
    """ECS42 in prepayment mode without credit: SupplyStateError -> ECS42's error Response."""
    esme: Any = site.estate.device(ESME)
    site.endpoint.handle(site.command(rtds("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_COMMAND_GBCS.HEX")))
    site.endpoint.handle(site.command(rtds(DISABLE)))
    esme.adjust_meter_balance(-esme.read_meter_balance(site.clock.now()).value.balance - 10_000_00,
                              site.clock.now())
    before = state(site)
    answer = site.endpoint.answer(site.command(rtds("ECS42_7.1_SUCCESS_COMMAND_GBCS.HEX")))
    assert not answer.executed
    [response] = answer.messages
    assert not parse(response, keys=site.keys.supplier_side).success
    view = payload_view(response, site.keys.supplier_side)
    assert view["access_response_specification"][0]["result"] != 0
    after = state(site)
    assert after[0] is SupplyState.DISABLED and after[1] == before[1]


def test_a_served_use_case_without_a_response_form_is_discarded_before_it_runs(site: Site) -> None:
    """ECS19 (a register read, DLMS get) has no RTDS Response to learn its structure from:
    refused before it reaches the device, whose counters stay as they were."""
    msg = rtds(READ_SUPPLY)
    other = dataclasses.replace(msg.apdu.other_information, message_code=0x002D)
    apdu = dataclasses.replace(msg.apdu, other_information=other)
    before = state(site)
    with pytest.raises(UnsupportedUseCase, match="ECS19"):
        site.endpoint.handle(site.command(dataclasses.replace(msg, frame=apdu)))
    assert state(site) == before


def test_a_set_command_of_a_use_case_without_rtds_vectors_is_answered_from_gbcs(
        site: Site) -> None:
    """ECS02 has no RTDS vectors; its command is DLMS sets, whose Response GBCS fixes
    (null-data and a result per set, signed as the command is critical)."""
    msg = rtds("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_COMMAND_GBCS.HEX")
    other = dataclasses.replace(msg.apdu.other_information, message_code=0x001A)
    apdu = dataclasses.replace(msg.apdu, other_information=other)
    answer = site.endpoint.answer(site.command(dataclasses.replace(msg, frame=apdu)))
    assert answer.use_case == "ECS02"
    [response] = answer.messages
    decoded = codec.decode(response, site.keys.supplier_side)
    assert decoded.apdu.signature
    view = payload_view(response, site.keys.supplier_side)
    sets = len(payload_json(msg.payload)["access_request_list_of_specification"])
    assert [r["@type"] for r in view["access_response_specification"]] == ["access-response-set"] * sets
    assert view["access_response_list_of_data"] == [{"@type": "null-data"}] * sets


def test_a_critical_command_with_only_a_mac_is_refused(site: Site) -> None:
    """ECS43 is critical: the ACB's MAC without the supplier's signature is not enough."""
    signed = rtds(DISABLE).apdu
    unsigned = dataclasses.replace(signed, signature=None,
                                   originator_counter=next(site.counters))
    octets = bytes(codec.add_mac_header(unsigned, site.keys.device_side))
    before = state(site)
    with pytest.raises(NotAuthorised, match="critical"):
        site.endpoint.handle(octets)
    assert state(site) == before


def test_a_signed_command_with_a_bad_mac_is_refused(site: Site) -> None:
    """CS03A1 is signed by the supplier and MACed by the ACB: both must verify."""
    octets = bytearray(site.command(rtds("CS03A1_8.7.1_SUCCESS_COMMAND_GBCS.HEX")))
    octets[-1] ^= 0x01
    esme: Any = site.estate.device(ESME)
    joined = esme.han_devices
    with pytest.raises(NotAuthorised, match="MAC"):
        site.endpoint.handle(bytes(octets))
    assert esme.han_devices == joined
