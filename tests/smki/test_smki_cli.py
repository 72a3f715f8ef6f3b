"""`opendcc smki issue|renew|revoke|show|export`, and a supplier onboarded with it signing DUIS
that opendcc verifies, until it is revoked."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opendcc.cli.main import app
from opendcc.config import reference_dir
from opendcc.duis import xmldsig
from opendcc.duis.parser import parse_xml
from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.errors import Revoked
from opendcc.smki.keystore import load_certificate, load_private_key
from opendcc.smki.profile import parse_certificate
from opendcc.smki.repository import CertificateRepository

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-0A-00-01")
DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
runner = CliRunner()


def _smki(repo: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["smki", *args, "--repository", str(repo)])
    return result.exit_code, result.output


def _issue(repo: Path, out: Path, entity: EUI64, role: str, usage: str = "ds") -> tuple[Path, Path]:
    code, output = _smki(repo, "issue", "--entity", str(entity), "--role", role, "--usage", usage,
                         "--out", str(out))
    assert code == 0, output
    stem = out / f"{entity.lower}-{role}-{usage}"
    return stem.with_suffix(".pem"), stem.with_suffix(".key")


def test_issue_writes_key_and_certificate_and_publishes_it(tmp_path: Path) -> None:
    repo = tmp_path / "smki.sqlite3"
    code, output = _smki(repo, "issue", "--entity", str(SUPPLIER), "--role", "supplier",
                         "--name", "ACME", "--out", str(tmp_path / "keys"))
    assert code == 0, output
    for usage in ("ds", "ka"):
        cert = parse_certificate((tmp_path / "keys" / f"{SUPPLIER.lower}-supplier-{usage}.pem").read_bytes())
        assert cert.entity == SUPPLIER and cert.usage is not None and cert.usage.value == usage
        assert (tmp_path / "keys" / f"{SUPPLIER.lower}-supplier-{usage}.key").stat().st_mode & 0o077 == 0
        assert CertificateRepository(repo).get(cert.serial) is not None
    assert "supplier (2)" in output


def test_show_export_revoke_renew(tmp_path: Path) -> None:
    repo = tmp_path / "smki.sqlite3"
    pem, _ = _issue(repo, tmp_path, SUPPLIER, "network-operator")
    serial = parse_certificate(pem.read_bytes()).serial_hex
    code, output = _smki(repo, "show", serial)
    assert code == 0 and "network-operator" in output and "in use" in output
    code, _ = _smki(repo, "export", serial, "--format", "der", "--out", str(tmp_path / "c.der"))
    assert code == 0 and (tmp_path / "c.der").read_bytes() == parse_certificate(pem.read_bytes()).der
    code, output = _smki(repo, "renew", serial, "--out", str(tmp_path / "renewed"))
    assert code == 0 and "renewed" in output
    assert "not in use" in _smki(repo, "show", serial)[1]
    code, output = _smki(repo, "revoke", serial, "--reason", "key compromise")
    assert code == 0 and "revoked" in output
    assert "revoked" in _smki(repo, "show", str(pem))[1]


@pytest.mark.parametrize("args,message", [
    (["issue", "--entity", "not-an-eui", "--role", "supplier"], "not an EUI-64"),
    (["issue", "--entity", "90-B3-D5-1F-30-0A-00-01", "--role", "chancellor"], "unknown SMKI role"),
    (["issue", "--entity", "90-B3-D5-1F-30-0A-00-01"], "give --role"),
    (["issue", "--entity", "90-B3-D5-1F-30-0A-00-01", "--role", "supplier", "--usage", "xx"], "--usage"),
    (["issue", "--entity", "90-B3-D5-1F-30-0A-00-01", "--role", "root"], "no organisation certificate"),
    (["revoke", "ABCDEF"], "no published certificate"),
    (["revoke", "xyz"], "not a hex certificate serial"),
    (["show", "ABCDEF"], "no certificate with serial"),
    (["export", "ABCDEF", "--format", "txt"], "--format must be pem or der"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(tmp_path: Path, args: list[str],
                                                           message: str) -> None:
    repo = tmp_path / "smki.sqlite3"
    code, output = _smki(repo, *args)
    assert code != 0
    assert message in re.sub(r"\s+", " ", output)
    assert [s for s in CertificateRepository(repo).search() if s.certificate.kind != "ca"] == []


def _template(originator: EUI64) -> bytes:
    path = reference_dir() / "duis" / "templates" / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
    text = path.read_text()
    return re.sub(r"<sr:RequestID>[0-9A-F-]+:", f"<sr:RequestID>{originator}:", text, count=1).encode()


def test_onboarded_supplier_signs_duis_that_opendcc_verifies_until_revoked(tmp_path: Path) -> None:
    repo_path = tmp_path / "smki.sqlite3"
    pem, key = _issue(repo_path, tmp_path, SUPPLIER, "supplier")
    signed = xmldsig.sign(parse_xml(_template(SUPPLIER)), load_private_key(key.read_bytes()),
                          load_certificate(pem.read_bytes()))
    repository = CertificateRepository(repo_path)
    validator = Authority.open(repository).validator()
    now = datetime.now(UTC)
    verified = xmldsig.verify(signed, repository.verified_lookup(validator, at=now), at=now)
    assert parse_certificate(verified.certificate).entity == SUPPLIER
    assert _smki(repo_path, "revoke", parse_certificate(pem.read_bytes()).serial_hex)[0] == 0
    with pytest.raises(Revoked):
        xmldsig.verify(signed, repository.verified_lookup(validator, at=now), at=now)


@pytest.mark.java
def test_dcc_tool_validates_opendcc_dcc_signature_only_when_given_the_certificate(
        tmp_path: Path) -> None:
    """The DCC tool looks certificates up in its own embedded ZAZ1 list; it accepts a
    signature by an opendcc-issued certificate when that certificate file is passed to it."""
    pem, key = _issue(tmp_path / "smki.sqlite3", tmp_path, DCC, "dsp-xml-sign")
    sample = (reference_dir() / "duis" / "samples" / "readfw-response.xml").read_bytes()
    # The sample binds the xmldsig namespace to `ns3` as DCC Boxed writes it; opendcc's own
    # responses do not, and its signer (which writes a `ds:` Signature) is checked on those.
    sample = sample.replace(b' xmlns:ns3="http://www.w3.org/2000/09/xmldsig#"', b"")
    signed = xmldsig.sign_bytes(sample, load_private_key(key.read_bytes()),
                                load_certificate(pem.read_bytes()))
    jar = reference_dir() / "tools" / "dcc-xmldsig.jar"
    java = shutil.which("java")
    assert java is not None, "Java is needed for the DCC tool"

    def run(*extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([java, "-cp", str(jar), "uk.co.smartdcc.boxed.xmldsig.Validate", "-",
                               *extra], input=signed, capture_output=True, timeout=120, check=False)

    with_cert = run(str(pem))
    assert with_cert.returncode == 0, with_cert.stderr.decode()
    without = run()
    assert without.returncode != 0 and b"could not locate certificate" in without.stderr
