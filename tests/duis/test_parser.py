"""The hardened parser: malformed, oversize and DTD-bearing input is refused before use."""

from __future__ import annotations

import pytest

from opendcc.duis.parser import parse_xml
from opendcc.duis.response_codes import ForbiddenDtd, MalformedXml, Oversize

from .support import SAMPLES


def test_xxe_sample_is_refused_without_resolving_anything() -> None:
    with pytest.raises(ForbiddenDtd):
        parse_xml((SAMPLES / "duis-xxe.xml").read_bytes())


def test_entity_expansion_is_refused() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b"<lolz>&lol2;</lolz>")
    with pytest.raises(ForbiddenDtd):
        parse_xml(laughs)


def test_external_dtd_is_refused() -> None:
    with pytest.raises(ForbiddenDtd):
        parse_xml(b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>')


@pytest.mark.parametrize("data", [b"", b"<a>", b"<a></b>", b"not xml", b"<a/><b/>"])
def test_malformed_xml_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedXml):
        parse_xml(data)


def test_oversize_message_is_refused_before_parsing() -> None:
    with pytest.raises(Oversize) as info:
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)
    assert info.value.http_status == 413


def test_forbidden_dtd_is_a_malformed_message() -> None:
    assert issubclass(ForbiddenDtd, MalformedXml)


def test_other_encodings_parse() -> None:
    root = parse_xml('<?xml version="1.0" encoding="UTF-16"?><a>é</a>'.encode("utf-16"))
    assert root.text == "é"
