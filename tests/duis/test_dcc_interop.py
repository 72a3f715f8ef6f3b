"""Conformance with the DCC's own signer/validator (tools/dcc-xmldsig.jar), in both directions."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

import dcctool
from opendcc.duis import response, xmldsig
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import CertificateExpired, ResponseCode
from opendcc.smki.keystore import KeyStore

from .conftest import Signer
from .support import TEMPLATES, UNSIGNABLE

pytestmark = pytest.mark.java

SIGNABLE = [p for p in TEMPLATES if p.name not in UNSIGNABLE]

# The DCC tool signs for originator 90-B3-D5-1F-30-03-00-00 with a certificate that expired on
# 2025-12-22: the signature is sound, but a verifier that checks validity dates refuses it.
EXPIRED_SIGNERS = {"90B3D51F30030000"}


def _stripped(path: Path) -> bytes:
    root = parse_xml(path.read_bytes())
    xmldsig.strip_whitespace(root)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


@cache
def _dcc_signed() -> dict[str, bytes]:
    """Every signable template, whitespace-stripped and signed by the DCC tool (counter kept)."""
    signed = dcctool.parallel_map(lambda p: dcctool.sign(_stripped(p)), SIGNABLE)
    return {p.name: s for p, s in zip(SIGNABLE, signed, strict=True)}


@pytest.mark.parametrize("template", SIGNABLE, ids=lambda p: p.name)
def test_template_signed_by_the_dcc_tool_verifies(template: Path, keystore: KeyStore) -> None:
    signed = _dcc_signed()[template.name]
    root = parse_xml(signed)
    verified = xmldsig.verify(root, keystore.lookup)
    originator = read_request(root).request_id.originator
    credential = keystore.xml_signing(originator)
    assert credential is not None and credential.certificate == verified.certificate
    if originator.hex in EXPIRED_SIGNERS:
        with pytest.raises(CertificateExpired):
            xmldsig.verify(root, keystore.lookup, at=datetime.now(UTC))
    else:
        xmldsig.verify(root, keystore.lookup, at=datetime.now(UTC))


@pytest.mark.parametrize("name", sorted(UNSIGNABLE))
def test_the_dcc_tool_cannot_sign_a_template_whose_originator_has_no_key(name: str) -> None:
    path = next(p for p in TEMPLATES if p.name == name)
    with pytest.raises(dcctool.DccToolError, match="could not locate certificate"):
        dcctool.sign(_stripped(path))


@cache
def _validated_by_dcc_tool(keystore: KeyStore) -> dict[str, tuple[bool, str]]:
    """Every template signed by opendcc with its originator's xml-sign key, checked by the DCC tool."""
    def check(path: Path) -> tuple[bool, str]:
        root = parse_xml(path.read_bytes())
        credential = keystore.xml_signing(read_request(root).request_id.originator)
        assert credential is not None and credential.private_key is not None
        xmldsig.sign(root, credential.private_key, credential.certificate)
        return dcctool.validate(response.serialize(root))

    return dict(zip((p.name for p in SIGNABLE), dcctool.parallel_map(check, SIGNABLE), strict=True))


@pytest.mark.parametrize("template", SIGNABLE, ids=lambda p: p.name)
def test_template_signed_by_opendcc_passes_the_dcc_validator(template: Path, keystore: KeyStore) -> None:
    ok, diagnostics = _validated_by_dcc_tool(keystore)[template.name]
    assert ok, diagnostics
    assert "passed signature check" in diagnostics


@pytest.mark.parametrize("code", [ResponseCode.I0, ResponseCode.I99, ResponseCode.E4, ResponseCode.E20])
def test_response_signed_by_opendcc_passes_the_dcc_validator(code: ResponseCode, dcc_signer: Signer) -> None:
    root = response.build_response(
        "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:1002", code,
        now=datetime(2026, 11, 23, 12, 0, tzinfo=UTC), service_reference="11.2", variant="11.2",
        payload=response.payload_element("GBCSPayload", "3QAAAAAAAFUR") if code == "I0" else None,
        response_id="00-DB-12-34-56-78-90-A2:90-B3-D5-1F-30-01-00-00:1002" if code == "I0" else None,
    )
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    ok, diagnostics = dcctool.validate(response.serialize(root))
    assert ok and "passed signature check" in diagnostics, diagnostics


def test_the_dcc_validator_refuses_a_tampered_opendcc_signature(dcc_signer: Signer) -> None:
    root = response.build_response("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:1002",
                                   ResponseCode.I99, now=datetime(2026, 1, 1, tzinfo=UTC),
                                   service_reference="11.2", variant="11.2")
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    data = response.serialize(root).replace(b"I99", b"I0")
    ok, _ = dcctool.validate(data)
    assert not ok


def test_re_indented_signed_document_is_accepted_by_both(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = response.build_response("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:1002",
                                   ResponseCode.I99, now=datetime(2026, 1, 1, tzinfo=UTC),
                                   service_reference="11.2", variant="11.2")
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    etree.indent(root)
    data = response.serialize(root)
    ok, diagnostics = dcctool.validate(data)
    assert ok, diagnostics
    xmldsig.verify(parse_xml(data), keystore.lookup)


@pytest.mark.java
def test_document_binding_xmldsig_to_another_prefix_signs_for_the_dcc_validator(
        dcc_signer: Signer, keystore: KeyStore, reference: Path) -> None:
    # The DCC's own responses declare the XMLDSig namespace as `ns3` on the root, so the
    # Signature opendcc appends is written with that prefix.
    root = parse_xml((reference / "duis" / "samples" / "readfw-response.xml").read_bytes())
    for old in root.iterchildren("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(old)
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    signed = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    assert b"<ns3:Signature>" in signed
    ok, output = dcctool.validate(signed)
    assert ok, output
    xmldsig.verify(parse_xml(signed), keystore.lookup)
