"""The DCC side meets the device side: every DUIS template the Transform turns into a GBCS
command of a use case the devices serve goes to an emulated device, and its Response comes
back verified and renders as valid MMC."""

from __future__ import annotations

import collections
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devices.gbcs.sites import Keys, make_site
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.core.transform import transform
from opendcc.core.transform.dcc_originated import CS02B_CODES
from opendcc.devices.errors import NotAuthorised
from opendcc.devices.gbcs.forms import forms
from opendcc.devices.gbcs.settings import served as is_served
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import DuisError
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec

TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*.XML"))
#: Before every template's execution date-time (the earliest is in 2015).
TRANSFORM_TIME = datetime(2014, 6, 1, tzinfo=UTC)
DCC_COUNTER = 10**13
DEVICE_TYPES = {"00-DB-12-34-56-78-90-A0": "ESME", "00-DB-12-34-56-78-90-A1": "GSME",
                "00-DB-12-34-56-78-90-A2": "CHF", "00-DB-12-34-56-78-90-A3": "GPF"}
OUTCOMES: collections.Counter[str] = collections.Counter()


def command_for(path: Path, keys: Keys) -> bytes | None:
    """The GBCS command the Transform emits for a template (a Pre-Command signed by its user
    and MACed as the DCC does for CV 5-7), or None when it emits none for a served use case."""
    request = read_request(parse_xml(path.read_bytes()))
    try:
        result = transform(request, now=TRANSFORM_TIME, counter=DCC_COUNTER, keys=keys.device_side,
                           device_type=DEVICE_TYPES.get(request.request_id.target.hyphenated))
    except DuisError as exc:
        OUTCOMES[f"not transformed ({type(exc).__name__})"] += 1
        return None
    msg = codec.decode(result.gbcs)
    if not is_served(msg.use_case.code) or not forms().get(msg.use_case.code):
        OUTCOMES["use case not served by the devices"] += 1
        return None
    if not result.pre_command:
        return result.gbcs
    signed = codec.sign_apdu(dataclasses.replace(msg.apdu, signature=bytes(64)), keys.device_side)
    return bytes(codec.add_mac_header(signed, keys.device_side))


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_transformed_template_is_answered_by_the_device(path: Path, gbcs_keys: Keys) -> None:
    command = command_for(path, gbcs_keys)
    if command is None:
        return
    site = make_site(gbcs_keys)
    try:
        answer = site.endpoint.answer(command)
    except NotAuthorised as exc:
        if codec.decode(command).apdu.message_code in CS02B_CODES and "trusts" in str(exc):
            # 6.21 hands over a cell the DCC holds: the Boxed GPF's supplier cell is not the DCC's
            OUTCOMES["refused: handover of a cell the DCC does not hold"] += 1
            return
        # Non-critical forms of critical use cases (CS03C, CS04AC): RTDS has the ACB sign
        # them; a command without that signature is refused, as a device must.
        assert "critical" in str(exc) and not codec.decode(command).apdu.signature
        OUTCOMES["refused: critical use case without a signature"] += 1
        return
    parsed = parse(answer.messages[0], keys=gbcs_keys.supplier_side)
    validate_mmc(parsed.to_mmc_xml())
    OUTCOMES["answered, executed" if answer.executed else "answered, refused by device state"] += 1


def test_report_transform_to_device_outcomes() -> None:
    """Runs after the parametrised test in file order: prints the outcome counts."""
    print(f"\n{len(TEMPLATES)} DUIS templates:", dict(sorted(OUTCOMES.items())))
