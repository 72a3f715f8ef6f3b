"""`opendcc sign|verify|validate` and `opendcc srv list|show`: exit codes and messages."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from opendcc.cli.main import app

from .support import SAMPLES, TEMPLATES

runner = CliRunner()
TEMPLATE = next(p for p in TEMPLATES if p.name == "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML")


def test_sign_then_verify_then_validate(tmp_path: Path) -> None:
    signed = tmp_path / "signed.xml"
    result = runner.invoke(app, ["sign", str(TEMPLATE), "--output", str(signed)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", str(signed)])
    assert result.exit_code == 0 and "signature valid" in result.output
    assert runner.invoke(app, ["validate", str(signed)]).exit_code == 0


def test_sign_as_a_named_user(tmp_path: Path) -> None:
    signed = tmp_path / "signed.xml"
    result = runner.invoke(app, ["sign", str(TEMPLATE), "--user", "90-B3-D5-1F-30-01-00-00",
                                 "-o", str(signed)])
    assert result.exit_code == 0, result.output
    assert b"27572613927499351639968579586655397031" in signed.read_bytes()


def test_verify_names_the_problem_and_exits_1() -> None:
    result = runner.invoke(app, ["verify", str(SAMPLES / "readfw-response-badsignature.xml")])
    assert result.exit_code == 1
    assert "SignatureInvalid" in result.output and "signature mismatch" in " ".join(result.output.split())


def test_validate_refuses_the_xxe_sample() -> None:
    result = runner.invoke(app, ["validate", str(SAMPLES / "duis-xxe.xml")])
    assert result.exit_code == 1 and "ForbiddenDtd" in result.output


def test_missing_file_exits_2() -> None:
    result = runner.invoke(app, ["verify", "/nonexistent/file.xml"])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_srv_list_and_show() -> None:
    listed = runner.invoke(app, ["srv", "list", "--critical"])
    assert listed.exit_code == 0 and "1.1.1" in listed.output
    shown = runner.invoke(app, ["srv", "show", "8.2"])
    assert shown.exit_code == 0 and "Read Inventory" in shown.output
    unknown = runner.invoke(app, ["srv", "show", "99.1"])
    assert unknown.exit_code == 1 and "not in the DUIS SRV catalogue" in " ".join(unknown.output.split())
