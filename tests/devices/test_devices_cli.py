"""`opendcc devices estate|read`."""

from __future__ import annotations

from typer.testing import CliRunner

from opendcc.cli.main import app

runner = CliRunner()


def test_estate_lists_the_boxed_premises() -> None:
    result = runner.invoke(app, ["devices", "estate", "-n", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 + 1 + 2  # header, the boxed premises, two generated
    assert lines[1].split("\t")[:3] == ["00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0",
                                        "1312345678111"]


def test_read_shows_a_meter() -> None:
    result = runner.invoke(app, ["devices", "read", "00-DB-12-34-56-78-90-A0", "--days", "2"])
    assert result.exit_code == 0, result.output
    assert "import register" in result.output and "1312345678111" in result.output


def test_read_of_an_unknown_device_fails_clearly() -> None:
    result = runner.invoke(app, ["devices", "read", "00-DB-12-34-56-78-90-FF"])
    assert result.exit_code == 2
    assert "no device" in result.output
