"""XMLDSig as DUIS uses it: the DCC's samples verify or fail for the right reason; tampering shows."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from opendcc.duis import xmldsig
from opendcc.duis.parser import parse_xml
from opendcc.duis.response_codes import (
    CertificateExpired,
    CertificateUnknown,
    DuisError,
    SignatureInvalid,
    SignatureMissing,
)
from opendcc.smki.keystore import KeyStore

from .conftest import Signer
from .support import SAMPLES, TEMPLATES

GOOD = ["readfw-response.xml", "read-inventory-response-5.4.xml", "read-inventory-response-4g.xml"]
BAD: dict[str, tuple[type[DuisError], str]] = {
    "readfw-response-badsignature.xml": (SignatureInvalid, "signature mismatch"),
    "readfw-response-invalid.xml": (SignatureInvalid, "digest mismatch"),
    "readfw-response-no-signature.xml": (SignatureMissing, "no ds:Signature"),
    "readfw-response-no-serial.xml": (CertificateUnknown, "X509IssuerSerial"),
    "readfw-response-nonexist-serial.xml": (CertificateUnknown, "217636141832862931915946451229571981153"),
    "acknowledgement-error.xml": (SignatureMissing, "no ds:Signature"),
    # A placeholder signature naming a certificate (CN=U1, serial 1234567890) that does not exist.
    "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS-signed.XML": (CertificateUnknown, "1234567890"),
}


@pytest.mark.parametrize("name", GOOD)
def test_dcc_signed_samples_verify(name: str, keystore: KeyStore) -> None:
    root = parse_xml((SAMPLES / name).read_bytes())
    verified = xmldsig.verify(root, keystore.lookup)
    assert verified.issuer == "CN=Z1,OU=07"
    assert verified.certificate.serial_number == verified.serial


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_samples_fail_with_the_right_error(name: str, keystore: KeyStore) -> None:
    error, detail = BAD[name]
    root = parse_xml((SAMPLES / name).read_bytes())
    with pytest.raises(error, match=detail):
        xmldsig.verify(root, keystore.lookup)


def test_verify_leaves_the_document_unchanged(keystore: KeyStore) -> None:
    data = (SAMPLES / "readfw-response.xml").read_bytes()
    root = parse_xml(data)
    before = etree.tostring(root)
    xmldsig.verify(root, keystore.lookup)
    assert etree.tostring(root) == before


def _signed_template(signer: Signer, name: str = "CS08_11.2_SUCCESS_REQUEST_DUIS.XML") -> bytes:
    path = next(p for p in TEMPLATES if p.name == name)
    return xmldsig.sign_bytes(path.read_bytes(), signer.private_key, signer.certificate)


def test_changed_value_after_signing_is_a_digest_mismatch(dcc_signer: Signer, keystore: KeyStore) -> None:
    signed = _signed_template(dcc_signer)
    root = parse_xml(signed)
    xmldsig.verify(root, keystore.lookup)
    request_id = root.find(".//{http://www.dccinterface.co.uk/ServiceUserGateway}RequestID")
    assert request_id is not None and request_id.text
    request_id.text = request_id.text + "1"
    with pytest.raises(SignatureInvalid, match="digest mismatch"):
        xmldsig.verify(root, keystore.lookup)


def test_changed_signed_info_is_a_signature_mismatch(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    reference = root.find(f".//{{{xmldsig.DS}}}Reference")
    assert reference is not None
    reference.set("Id", "changed")
    with pytest.raises(SignatureInvalid, match="signature mismatch"):
        xmldsig.verify(root, keystore.lookup)


def test_flipped_signature_bit_is_a_signature_mismatch(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    value = root.find(f".//{{{xmldsig.DS}}}SignatureValue")
    assert value is not None and value.text
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SignatureInvalid, match="signature mismatch"):
        xmldsig.verify(root, keystore.lookup)


def test_signature_value_wrapped_by_java_base64_is_accepted(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    value = root.find(f".//{{{xmldsig.DS}}}SignatureValue")
    assert value is not None and value.text
    value.text = value.text[:76] + "\r\n" + value.text[76:]
    xmldsig.verify(root, keystore.lookup)


def test_expired_certificate_is_refused(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    with pytest.raises(CertificateExpired):
        xmldsig.verify(root, keystore.lookup, at=datetime(2200, 1, 1, tzinfo=UTC))
    xmldsig.verify(root, keystore.lookup, at=datetime(2026, 1, 1, tzinfo=UTC))


def test_signing_strips_formatting_and_replaces_an_old_signature(dcc_signer: Signer) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    signatures = root.findall(f"{{{xmldsig.DS}}}Signature")
    assert len(signatures) == 1
    assert all(node.tail is None for node in root.iter() if node is not root)


def test_keyinfo_names_issuer_and_decimal_serial(dcc_signer: Signer) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    ns = {"ds": xmldsig.DS}
    assert root.findtext(".//ds:X509IssuerName", namespaces=ns) == "CN=Z1,OU=07"
    assert root.findtext(".//ds:X509SerialNumber", namespaces=ns) == str(
        dcc_signer.certificate.serial_number)


def test_signature_in_an_unusual_place_still_verifies(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    etree.SubElement(root, "{urn:x}trailer")  # the signature is no longer the last child
    with pytest.raises(SignatureInvalid, match="digest mismatch"):
        xmldsig.verify(root, keystore.lookup)
    root.remove(root[-1])
    xmldsig.verify(root, keystore.lookup)


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    min_size=1, max_size=40,
).filter(lambda s: s.strip() != "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, attribute=_TEXT)
def test_sign_verify_round_trip_of_generated_content(text: str, attribute: str,
                                                     dcc_signer: Signer, keystore: KeyStore) -> None:
    root = etree.Element("{http://www.dccinterface.co.uk/ServiceUserGateway}Request",
                         nsmap={"sr": "http://www.dccinterface.co.uk/ServiceUserGateway"})
    child = etree.SubElement(root, "{http://www.dccinterface.co.uk/ServiceUserGateway}Note",
                             note=attribute)
    child.text = text
    etree.SubElement(root, "{urn:other}Extra").text = text[::-1]
    signed = xmldsig.sign_bytes(etree.tostring(root), dcc_signer.private_key, dcc_signer.certificate)
    again = parse_xml(signed)
    assert xmldsig.verify(again, keystore.lookup).serial == dcc_signer.certificate.serial_number
    note = again.find("{http://www.dccinterface.co.uk/ServiceUserGateway}Note")
    assert note is not None and note.text == text


def test_unknown_serial_lookup_gets_issuer_and_serial() -> None:
    seen: list[tuple[str, int]] = []

    def lookup(issuer: str, serial: int) -> None:
        seen.append((issuer, serial))
        return None

    root = parse_xml((SAMPLES / "readfw-response.xml").read_bytes())
    with pytest.raises(CertificateUnknown):
        xmldsig.verify(root, lookup)
    assert seen == [("CN=Z1,OU=07", 50669612984035780968362471400449834504)]


def test_templates_folder_is_present() -> None:
    assert len(TEMPLATES) == 223 and all(isinstance(p, Path) for p in TEMPLATES)


def test_formatted_signed_info_is_its_exclusive_c14n(dcc_signer: Signer) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    signed_info = root.find(f".//{{{xmldsig.DS}}}SignedInfo")
    digest = root.findtext(f".//{{{xmldsig.DS}}}DigestValue")
    assert signed_info is not None and digest
    expected = xmldsig.SIGNED_INFO_C14N.format(digest=digest).encode()
    assert etree.tostring(signed_info, method="c14n", exclusive=True) == expected


def test_signing_a_document_that_already_declares_ds_keeps_one_prefix(dcc_signer: Signer,
                                                                      keystore: KeyStore) -> None:
    path = next(p for p in TEMPLATES if p.name == "CS08_11.2_SUCCESS_REQUEST_DUIS.XML")
    root = parse_xml(path.read_bytes())
    assert root.nsmap.get("ds") == xmldsig.DS
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)  # re-signing replaces
    assert len(root.findall(f"{{{xmldsig.DS}}}Signature")) == 1
    xmldsig.verify(parse_xml(etree.tostring(root)), keystore.lookup)


def test_a_second_signature_element_inside_the_document_does_not_confuse_the_digest(
        dcc_signer: Signer, keystore: KeyStore) -> None:
    path = next(p for p in TEMPLATES if p.name == "CS08_11.2_SUCCESS_REQUEST_DUIS.XML")
    root = parse_xml(path.read_bytes())
    body = root.find("{http://www.dccinterface.co.uk/ServiceUserGateway}Body")
    assert body is not None
    etree.SubElement(body, f"{{{xmldsig.DS}}}Signature").text = "decoy"
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    again = parse_xml(etree.tostring(root))
    xmldsig.verify(again, keystore.lookup)
    decoy = again.find(f".//{{{xmldsig.DS}}}Signature")
    assert decoy is not None and decoy.text == "decoy"
    decoy.text = "changed"
    with pytest.raises(SignatureInvalid, match="digest mismatch"):
        xmldsig.verify(again, keystore.lookup)


def test_naive_verification_time_is_taken_as_utc(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    xmldsig.verify(root, keystore.lookup, at=datetime(2026, 1, 1))


@pytest.mark.parametrize("name", GOOD)
def test_signed_document_re_indented_afterwards_verifies_as_in_the_dcc_tool(
        name: str, keystore: KeyStore) -> None:
    root = parse_xml((SAMPLES / name).read_bytes())
    etree.indent(root)
    again = parse_xml(etree.tostring(root))
    xmldsig.verify(again, keystore.lookup)
    with pytest.raises(SignatureInvalid, match="digest mismatch"):
        xmldsig.verify(again, keystore.lookup, strict_whitespace=True)


def test_re_indenting_does_not_hide_a_changed_value(dcc_signer: Signer, keystore: KeyStore) -> None:
    root = parse_xml(_signed_template(dcc_signer))
    request_id = root.find(".//{http://www.dccinterface.co.uk/ServiceUserGateway}RequestID")
    assert request_id is not None and request_id.text
    request_id.text += "1"
    etree.indent(root)
    with pytest.raises(SignatureInvalid, match="digest mismatch"):
        xmldsig.verify(parse_xml(etree.tostring(root)), keystore.lookup)
