"""`opendcc parse FILE`: a DUIS Response or GBCS hex printed as MMC XML or as a tree."""

from __future__ import annotations

from lxml import etree
from typer.testing import CliRunner

from opendcc.cli.main import app
from opendcc.config import reference_dir
from opendcc.duis.xsd import validate_mmc

runner = CliRunner()


def test_parse_prints_valid_mmc_xml_for_a_duis_response() -> None:
    path = reference_dir() / "duis" / "samples" / "readfw-response.xml"
    result = runner.invoke(app, ["parse", str(path)])
    assert result.exit_code == 0, result.output
    validate_mmc(etree.fromstring(result.output.encode()))


def test_parse_tree_shows_the_decrypted_payload() -> None:
    path = next((reference_dir() / "gbcs" / "rtds" / "4.1.1_ECS17b").glob("*SINGLE_SUCCESS_RESPONSE*"))
    result = runner.invoke(app, ["parse", "--tree", str(path)])
    assert result.exit_code == 0, result.output
    assert "ECS17b" in result.output and "decrypted" in result.output


def test_parse_refuses_a_message_for_another_user_with_exit_code_2() -> None:
    path = next((reference_dir() / "gbcs" / "rtds" / "4.1.1_ECS17b").glob("*SINGLE_SUCCESS_RESPONSE*"))
    result = runner.invoke(app, ["parse", "--user", "90-B3-D5-1F-30-01-00-99", str(path)])
    assert result.exit_code == 2
    assert "BusinessTargetID" in result.output
