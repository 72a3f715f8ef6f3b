"""Response codes: the XSD enumeration, meanings, and one code or HTTP status per rejection."""

from __future__ import annotations

import re

import pytest

from opendcc.duis.response_codes import (
    DuisError,
    ResponseCode,
    all_error_classes,
    meaning,
)
from opendcc.duis.xsd import xsd_dir


def _xsd_codes() -> list[str]:
    text = (xsd_dir() / "DUIS_Schema_V5.4.xsd").read_text()
    start = text.index('<xs:simpleType name="ResponseCode">')
    return re.findall(r'value="([^"]+)"', text[start:text.index("</xs:simpleType>", start)])


def test_enum_is_exactly_the_xsd_enumeration() -> None:
    assert [c.value for c in ResponseCode] == _xsd_codes()


@pytest.mark.parametrize("code", list(ResponseCode))
def test_every_code_has_a_meaning(code: ResponseCode) -> None:
    assert meaning(code)


def test_meanings_of_common_codes() -> None:
    assert meaning(ResponseCode.I99).startswith("Acknowledgement")
    assert "Service Reference" in meaning(ResponseCode.E2)
    assert meaning(ResponseCode.E080201) == "Service-Request-specific error #1 for SRV 8.2"


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.__name__)
def test_each_rejection_names_one_code_or_status(cls: type[DuisError]) -> None:
    error = cls("what went wrong, and where")
    assert error.detail == "what went wrong, and where"
    assert 400 <= error.http_status < 600
    assert isinstance(error.code, ResponseCode) or error.code is None
    assert "what went wrong" in str(error)


def test_every_code_a_rejection_uses_has_a_tabulated_meaning() -> None:
    for cls in all_error_classes():
        if cls.code is not None:
            assert "not tabulated" not in meaning(cls.code), cls.__name__
