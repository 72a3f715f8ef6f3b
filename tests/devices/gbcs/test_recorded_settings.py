"""Configuration the device models do not keep: every RTDS command of such a use case is
answered with the Response GBCS specifies and the device records what it was sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from devices.gbcs.sites import Site
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.devices.errors import WrongDevice
from opendcc.devices.gbcs.authored_more import RECORDED as AUTHORED_RECORDED
from opendcc.devices.gbcs.authored_variants import RECORDED as VARIANTS_RECORDED
from opendcc.devices.gbcs.settings import RECORDED
from opendcc.gbcs import codec
from opendcc.gbcs.codec import GbcsMessage
from opendcc.gbcs.payloads import ASN1, decode_payload, payload_from_json, payload_json

RTDS = reference_dir() / "gbcs" / "rtds"


def _read(path: Path) -> GbcsMessage:
    return codec.decode(bytes.fromhex(path.read_text().strip()))


COMMANDS = [p for p in sorted(RTDS.glob("*/*_SUCCESS_COMMAND_GBCS.HEX"))
            if not ("FUTURE_DATED" in p.name or "CANCELLATION" in p.name)
            and _read(p).use_case.code in RECORDED]


def test_every_recorded_use_case_has_an_rtds_command() -> None:
    assert {_read(p).use_case.code for p in COMMANDS} == set(RECORDED) - set(AUTHORED_RECORDED) \
        - set(VARIANTS_RECORDED)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name.removesuffix("_COMMAND_GBCS.HEX"))
def test_configuration_command_is_answered_and_recorded(path: Path, site: Site) -> None:
    command = _read(path)
    answer = site.endpoint.answer(site.command(command))
    assert answer.executed
    assert parse(answer.messages[0], keys=site.keys.supplier_side).success
    recorded = site.endpoint.settings.of(answer.device)[command.use_case.code]
    assert recorded.payload == payload_json(command.payload)
    assert recorded.at == site.clock.now()


def test_a_configuration_for_another_device_type_is_refused(site: Site) -> None:
    """GCS36 (a GSME's) taken by the ESME: refused (a failure Response), nothing recorded."""
    esme = site.estate.device("00-DB-12-34-56-78-90-A0")
    with pytest.raises(WrongDevice):
        site.endpoint.settings.record("GCS36", esme, {}, site.clock.now())
    assert site.endpoint.settings.of(esme.id) == {}


def _cs02d_with(site: Site, certificate_der: bytes | None) -> GbcsMessage:
    [path] = RTDS.glob("*/CS02d_*_SUCCESS_COMMAND_GBCS.HEX")
    command = _read(path)
    if certificate_der is None:
        return command
    view = payload_json(decode_payload(ASN1, certificate_der, use_case="CS02d"))
    return codec.with_payload(command, payload_from_json(view))


def test_a_device_takes_a_certificate_for_its_own_key(site: Site) -> None:
    device = codec.decode(site.command(_cs02d_with(site, None))).apdu.recipient
    own = site.keys.device_side.certificate(device, "ds")
    assert own is not None
    answer = site.endpoint.answer(site.command(_cs02d_with(site, own.public_bytes(Encoding.DER))))
    assert answer.executed
    assert parse(answer.messages[0], keys=site.keys.supplier_side).success
    assert "CS02d" in site.endpoint.settings.of(answer.device)


def test_a_certificate_for_another_key_is_refused(site: Site) -> None:
    """The RTDS certificate certifies a key of the RTDS device, not the emulated one's."""
    answer = site.endpoint.answer(site.command(_cs02d_with(site, None)))
    assert not answer.executed
    assert not parse(answer.messages[0], keys=site.keys.supplier_side).success
    assert site.endpoint.settings.of(answer.device) == {}
