"""Form selection never sends a sibling use case in place of the request's own: a DUIS template
of a use case with no command form (ECS08a, ECS35b, GCS21m: no RTDS vector of their own) gets
a Command under its own use case's message code, or CommandNotTabulated (HTTP 501) — not the
learned form of ECS08, ECS35e or GCS21e with that use case's message code."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import transform_rtds as rtds

from opendcc.core.transform import default_tables, transform
from opendcc.core.transform.errors import CommandNotTabulated
from opendcc.core.transform.selection import claimed_elsewhere
from opendcc.gbcs import codec
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.smki.keystore import KeyStore

NOW = datetime(2014, 6, 1, tzinfo=UTC)
SIBLINGS = {"ECS08a": "ECS08", "ECS35b": "ECS35e", "GCS21m": "GCS21e"}
TEMPLATES = [t for t in rtds.templates() if (t.use_case or t.variant) in SIBLINGS]


def test_the_templates_are_in_the_reference() -> None:
    assert {t.use_case or t.variant for t in TEMPLATES} == set(SIBLINGS)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_template_gets_its_own_use_case_or_not_tabulated(template: rtds.Template,
                                                         keys: KeyStore) -> None:
    code = template.use_case or template.variant
    request = template.request
    device_type = rtds.DEVICE_TYPES.get(request.request_id.target.hyphenated)
    try:
        sent = transform(request, now=NOW, counter=1300, keys=keys, device_type=device_type)
    except CommandNotTabulated as exc:
        assert code in str(exc)
        return
    assert sent.use_case == code
    assert USE_CASE_BY_CODE[codec.decode(sent.gbcs, keys).apdu.message_code] == code


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_naming_the_sibling_still_sends_the_sibling(template: rtds.Template,
                                                    keys: KeyStore) -> None:
    """A caller that names the use case (the RTDS vectors' own) is sent what it named."""
    code = template.use_case or template.variant
    request = template.request
    device_type = rtds.DEVICE_TYPES.get(request.request_id.target.hyphenated)
    sibling = SIBLINGS[code]
    if not default_tables().for_use_case(sibling):
        pytest.xfail(f"{sibling} has no learned form in this reference")  # pragma: no cover
    sent = transform(request, now=NOW, counter=1300, keys=keys, device_type=device_type,
                     use_case=sibling)
    assert sent.use_case == sibling


def test_a_value_another_form_is_built_for_is_not_taken_by_a_form_without_it() -> None:
    forms = default_tables().for_srv("6.13")
    power = next(f for f in forms if f.use_case == "ECS35e")
    assert claimed_elsewhere(power, {"LogToRead": "Security"}, forms)
    assert claimed_elsewhere(power, {"LogToRead": "Event"}, forms)
    assert not claimed_elsewhere(power, {"LogToRead": "PowerEvent"}, forms)
