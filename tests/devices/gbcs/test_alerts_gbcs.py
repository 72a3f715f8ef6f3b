"""Alerts a command raises come back after its Response, as GBCS General Alerts."""

from __future__ import annotations

from typing import Any

from devices.gbcs.sites import Site, rtds
from opendcc.client.parse import parse
from opendcc.devices.events import EMERGENCY_CREDIT_ACTIVATED
from opendcc.devices.gbcs.alerts import GNCA, is_critical_alert
from opendcc.devices.gbcs.templates import shape
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.gbcs.payloads import payload_json

ESME = "00-DB-12-34-56-78-90-A0"


def test_emergency_credit_activation_raises_a_non_critical_alert(site: Site) -> None:
    esme: Any = site.estate.device(ESME)
    site.endpoint.handle(site.command(rtds("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_COMMAND_GBCS.HEX")))
    balance = esme.read_meter_balance(site.clock.now()).value.balance
    esme.adjust_meter_balance(100_00 - balance, site.clock.now())  # £1: below the EC threshold
    site.clock.advance(3600)  # the meter offers emergency credit once it has settled
    assert esme.read_meter_balance(site.clock.now()).value.emergency_credit_available
    response, alert_octets = site.endpoint.handle(site.command(rtds("ECS09_2.5_SUCCESS_COMMAND_GBCS.HEX")))
    assert parse(response, keys=site.keys.supplier_side).success
    alert = codec.decode(alert_octets, site.keys.supplier_side)
    assert alert.kind is MessageKind.ALERT and alert.verification is Verification.VERIFIED
    assert alert.apdu.message_code == GNCA and not alert.apdu.signature
    assert alert.apdu.recipient.hyphenated == "90-B3-D5-1F-30-01-00-00"
    rtds_alert = rtds("GNCA-DLMS_NA_810E_ALERT_GBCS.HEX")
    assert shape(payload_json(alert.payload)) == shape(payload_json(rtds_alert.payload))
    parsed = parse(alert_octets, keys=site.keys.supplier_side)
    assert parsed.alert_code == EMERGENCY_CREDIT_ACTIVATED
    validate_mmc(parsed.to_mmc_xml())
    assert not esme.outbox, "the alert went out with the response"


def test_alert_codes_of_the_critical_range_are_signed() -> None:
    assert is_critical_alert(0x8F30) and not is_critical_alert(0x810E)
