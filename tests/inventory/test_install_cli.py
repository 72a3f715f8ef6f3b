"""`opendcc install premises` and `opendcc switch run|status`: a supplier scripts both."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from opendcc.cli.main import app

runner = CliRunner()
A = "90-B3-D5-1F-30-01-00-00"
B = "90-B3-D5-1F-30-03-00-00"


def test_install_then_switch_from_the_command_line(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    installed = runner.invoke(app, ["install", "premises", "--mpan", "1400000000001",
                                    "--mprn", "700000001", "--supplier", A, "--store", store])
    assert installed.exit_code == 0, installed.output
    assert installed.output.count("Commissioned") == 5  # CHF, GPF, ESME, GSME, PPMID
    switched = runner.invoke(app, ["switch", "run", "1400000000001", "700000001", "--to", B,
                                   "--store", store])
    assert switched.exit_code == 0, switched.output
    assert switched.output.count("completed") == 2
    status = runner.invoke(app, ["switch", "status", "--store", store])
    assert status.output.count(f"{A} -> {B}") == 2


def test_installing_where_another_supplier_is_registered_is_refused(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    runner.invoke(app, ["install", "premises", "--mpan", "1400000000001", "--supplier", A,
                        "--store", store])
    again = runner.invoke(app, ["install", "premises", "--mpan", "1400000000001", "--supplier", B,
                                "--store", store])
    assert again.exit_code == 1 and "E4" in again.output


def test_switching_a_meter_point_without_registration_is_refused(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    runner.invoke(app, ["install", "premises", "--mpan", "1400000000001", "--supplier", A,
                        "--store", store])
    result = runner.invoke(app, ["switch", "run", "1499999999999", "--to", B, "--store", store])
    assert result.exit_code == 1 and "E4" in result.output
