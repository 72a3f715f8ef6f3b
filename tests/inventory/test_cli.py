"""`opendcc inventory`: seed the demo estate, show it, load a registration feed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from opendcc.cli.main import app

runner = CliRunner()
HEADER = "mpxn,supplier_id,network_operator_id,effective_from\n"


def test_seed_show_and_change_registration(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert runner.invoke(app, ["inventory", "seed-demo", "--store", store]).exit_code == 0
    shown = runner.invoke(app, ["inventory", "show", "00-DB-12-34-56-78-90-A0", "--store", store])
    assert shown.exit_code == 0 and "ESME" in shown.output and "1312345678111" in shown.output
    feed = tmp_path / "feed.csv"
    feed.write_text(HEADER + "1312345678111,90-B3-D5-1F-30-03-00-00,90-B3-D5-1F-30-02-00-00,2099-01-01\n")
    loaded = runner.invoke(app, ["inventory", "load-registrations", str(feed), "--store", store])
    assert loaded.exit_code == 0, loaded.output
    history = runner.invoke(app, ["inventory", "history", "1312345678111", "--store", store])
    assert "2099-01-01" in history.output and "90-B3-D5-1F-30-03-00-00" in history.output


def test_bad_feed_is_refused_with_its_line(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    runner.invoke(app, ["inventory", "seed-demo", "--store", store])
    feed = tmp_path / "feed.csv"
    feed.write_text(HEADER + "1312345678111,90-B3-D5-1F-30-03-00-00,90-B3-D5-1F-30-02-00-00,2021-01-01\n")
    result = runner.invoke(app, ["inventory", "load-registrations", str(feed), "--store", store])
    assert result.exit_code == 1 and "line 2" in result.output


def test_unknown_device_is_an_error(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    result = runner.invoke(app, ["inventory", "show", "11-22-33-44-55-66-77-88", "--store", store])
    assert result.exit_code == 1
