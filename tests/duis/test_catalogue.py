"""The SRV catalogue: all 129 DUIS 5.4 Service Request Variants and their Command Variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import (
    ResponseCode,
    UnknownServiceRequestVariant,
    WrongCommandVariant,
)

from .support import TEMPLATES


def test_catalogue_holds_all_129_srvs() -> None:
    catalogue = load_catalogue()
    assert len(catalogue) == 129
    assert len({srv.variant for srv in catalogue}) == 129
    assert load_catalogue() is catalogue


def test_srv_properties_are_read_from_the_matrix() -> None:
    srv = load_catalogue().get("1.1.1")
    assert srv.name == "Update Import Tariff (Primary Element)"
    assert srv.service_reference == "1.1"
    assert srv.critical and srv.on_demand and not srv.non_device and not srv.dcc_scheduled
    assert srv.future_dated_pattern == "Device"
    assert srv.eligible_roles == frozenset({"IS", "GS"})
    inventory = load_catalogue().get("8.2")
    assert inventory.non_device and inventory.future_dated_pattern is None


def test_service_reference_of_6_20_variants_is_6_20() -> None:
    assert load_catalogue().get("6.20.2").service_reference == "6.20"


def test_unknown_srv_variant_is_rejected() -> None:
    with pytest.raises(UnknownServiceRequestVariant, match=r"99\.9"):
        load_catalogue().get("99.9")


def test_variant_of_another_service_reference_is_rejected() -> None:
    with pytest.raises(UnknownServiceRequestVariant, match="does not belong"):
        load_catalogue().for_request("4.1", "1.1.1")


@pytest.mark.parametrize("variant,allowed", [("1.1.1", {4, 5, 6, 7}), ("8.2", {8}), ("4.2", {1, 2, 3})])
def test_command_variants_follow_critical_and_non_device(variant: str, allowed: set[int]) -> None:
    srv = load_catalogue().get(variant)
    assert srv.command_variants == allowed
    for cv in range(1, 9):
        if cv in allowed:
            srv.check_command_variant(cv)
        else:
            with pytest.raises(WrongCommandVariant) as info:
                srv.check_command_variant(cv)
            assert info.value.code is ResponseCode.E12


def test_critical_srv_sent_non_critical_names_the_problem() -> None:
    with pytest.raises(WrongCommandVariant, match="critical: Command Variant 1 not allowed"):
        load_catalogue().get("1.1.1").check_command_variant(1)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_template_names_a_catalogued_srv_with_an_allowed_command_variant(template: Path) -> None:
    request = read_request(parse_xml(template.read_bytes()))
    srv = load_catalogue().for_request(request.service_reference, request.service_reference_variant)
    srv.check_command_variant(request.command_variant)


def test_command_variant_endpoints_follow_dcc_boxed() -> None:
    assert CommandVariant.TRANSFORM.endpoint == "serviceT"
    assert CommandVariant.NON_DEVICE.endpoint == "serviceD"
    assert CommandVariant.SEND.endpoint == "serviceS"
    assert {cv.endpoint for cv in CommandVariant} == {"serviceS", "serviceD", "serviceT"}
