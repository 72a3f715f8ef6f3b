"""GBCS 13.3 CS02b on the device (`devices/gbcs/credentials.py`): a change of supplier by the
Transitional CoS party (RTDS 6.23 vectors, re-countered), and each bad command discarded or
refused with nothing replaced."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from devices.gbcs.sites import Site, rtds
from opendcc.core.transitional_cos import statuses
from opendcc.devices.errors import NotAuthorised, ReplayedCounter
from opendcc.devices.gbcs.credentials import BAD_CERTIFICATE, FDA_CS02B, SUCCESS
from opendcc.devices.security import RemotePartyRole
from opendcc.gbcs import codec
from opendcc.gbcs.codec import Verification
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.payload.asn1 import Sequence, decode_asn1, encode_value
from opendcc.ids import EUI64

ESME = "00-DB-12-34-56-78-90-A0"
A = "90-B3-D5-1F-30-01-00-00"
B = "90-B3-D5-1F-30-03-00-00"
TCOS = "90-B3-D5-1F-30-00-00-04"
IMMEDIATE = "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX"
FUTURE = "CS02bSupplierByTransCoS_6.23_FUTURE_DATED_SUCCESS_COMMAND_GBCS.HEX"
CANCEL = "CS02bSupplierByTransCoS_6.23_CANCELLATION_SUCCESS_COMMAND_GBCS.HEX"
DISABLE = "ECS43_7.2_SUCCESS_COMMAND_GBCS.HEX"  # critical: signed by the supplier


def supplier(site: Site) -> str:
    esme: Any = site.estate.device(ESME)
    return str(esme.anchors.get(RemotePartyRole.SUPPLIER).entity)


def response(site: Site, octets: bytes) -> list[int]:
    msg = codec.decode(octets, site.keys.supplier_side)
    assert msg.verification is Verification.VERIFIED  # signed by the device
    return statuses(msg.apdu.content)


def test_transitional_cos_replaces_the_supplier_and_the_old_one_is_refused(site: Site) -> None:
    answer = site.endpoint.answer(site.command(rtds(IMMEDIATE)))
    assert answer.executed and supplier(site) == B
    assert response(site, answer.messages[0]) == [SUCCESS, SUCCESS, SUCCESS]
    with pytest.raises(NotAuthorised):  # A's signature no longer counts on this meter
        site.endpoint.answer(site.command(rtds(DISABLE)))


def test_a_replayed_cs02b_is_discarded(site: Site) -> None:
    command = site.command(rtds(IMMEDIATE))
    site.endpoint.answer(command)
    with pytest.raises(ReplayedCounter):
        site.endpoint.answer(command)


def _as(site: Site, name: str, **changes: Any) -> bytes:
    """The vector re-countered, with its General Signing APDU changed, re-signed, re-MACed."""
    msg = rtds(name)
    counter = next(site.counters)
    apdu = dataclasses.replace(msg.apdu, originator_counter=counter, **changes)
    from opendcc.core.transform.dcc_originated import with_seq_number

    if "content" not in changes:
        apdu = dataclasses.replace(apdu, content=with_seq_number(apdu.content, counter))
    frame = dataclasses.replace(msg.frame, apdu=apdu) if isinstance(msg.frame, GeneralCiphering) \
        else apdu
    return codec.encode(frame, site.keys.device_side)


def test_signed_by_another_party_than_the_authorising_cell_is_discarded(site: Site) -> None:
    with pytest.raises(NotAuthorised):  # supplierByTransCoS signed by the supplier itself
        site.endpoint.answer(_as(site, IMMEDIATE, originator=EUI64.parse(A)))
    assert supplier(site) == A


def test_a_message_code_of_another_mode_is_discarded(site: Site) -> None:
    msg = rtds(IMMEDIATE)
    other = dataclasses.replace(msg.apdu.other_information, message_code=0x0102)
    with pytest.raises(NotAuthorised, match="message code"):
        site.endpoint.answer(_as(site, IMMEDIATE, other_information=other))
    assert supplier(site) == A


def test_a_sequence_number_that_is_not_the_counter_is_discarded(site: Site) -> None:
    content = rtds(IMMEDIATE).apdu.content  # the vector's own sequence number, 6001
    with pytest.raises(NotAuthorised, match="authorisingRemotePartySeqNumber"):
        site.endpoint.answer(_as(site, IMMEDIATE, content=content))
    assert supplier(site) == A


def _with_certificate(content: bytes, index: int, certificate: Any) -> bytes:
    root = decode_asn1(content)
    assert isinstance(root, Sequence)
    replacements = root.elements[1]
    assert isinstance(replacements, Sequence)
    item = replacements.elements[index]
    assert isinstance(item, Sequence)
    item = dataclasses.replace(item, elements=(certificate, *item.elements[1:]))
    items = (*replacements.elements[:index], item, *replacements.elements[index + 1:])
    return encode_value(dataclasses.replace(root, elements=(
        root.elements[0], dataclasses.replace(replacements, elements=items), *root.elements[2:])))


def test_a_certificate_of_the_wrong_role_is_refused_and_nothing_replaced(site: Site) -> None:
    content = rtds(IMMEDIATE).apdu.content
    network_operator = decode_asn1(rtds("CS02bNOByNO_6.15.1_SUCCESS_COMMAND_GBCS.HEX")
                                   .apdu.content).elements[1]
    assert isinstance(network_operator, Sequence)
    wrong = network_operator.elements[0].elements[0]  # type: ignore[attr-defined]
    from opendcc.core.transform.dcc_originated import with_seq_number

    counter = next(site.counters)
    forged = with_seq_number(_with_certificate(content, 0, wrong), counter)
    msg = rtds(IMMEDIATE)
    apdu = dataclasses.replace(msg.apdu, originator_counter=counter, content=forged)
    frame = dataclasses.replace(msg.frame, apdu=apdu)
    answer = site.endpoint.answer(codec.encode(frame, site.keys.device_side))
    assert not answer.executed and supplier(site) == A
    outcome = response(site, answer.messages[0])
    assert outcome[0] == BAD_CERTIFICATE and SUCCESS not in outcome  # one entity: none fit


def test_future_dated_cs02b_is_held_then_alerts_and_a_cancellation_drops_it(site: Site) -> None:
    answer = site.endpoint.answer(site.command(rtds(FUTURE)))
    assert answer.executed and supplier(site) == A  # held: commandAccepted only
    assert response(site, answer.messages[0]) == []
    esme: Any = site.estate.device(ESME)
    assert [p.use_case for p in esme.pending()] == ["CS02b"]
    site.endpoint.answer(site.command(rtds(CANCEL)))
    assert esme.pending() == [] and supplier(site) == A


def test_future_dated_cs02b_runs_at_its_time_with_alert_0x00cb(site: Site) -> None:
    site.endpoint.answer(site.command(rtds(FUTURE)))
    esme: Any = site.estate.device(ESME)
    [held] = esme.pending()
    site.clock.set(held.execute_at)
    site.clock.advance(1)
    assert supplier(site) == B
    [alert] = [a for a in site.endpoint.alerts
               if codec.decode(a).apdu.message_code == FDA_CS02B]
    msg = codec.decode(alert, site.keys.supplier_side)
    assert msg.verification is Verification.VERIFIED and msg.apdu.recipient.hyphenated == TCOS
