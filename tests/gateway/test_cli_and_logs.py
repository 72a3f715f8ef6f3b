"""`opendcc users` and the gateway's JSON log lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from typer.testing import CliRunner

from opendcc.cli.main import app
from opendcc.gateway.logs import JsonFormatter, log_event
from opendcc.store.engine import open_store
from opendcc.store.users import seed_reference_users

SUPPLIER = "90-B3-D5-1F-30-01-00-00"


def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'opendcc.sqlite3'}"
    store = open_store(url)
    with store.begin() as conn:
        seed_reference_users(conn)
    store.close()
    return url


def test_users_set_response_url_then_list_shows_it(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["users", "set-response-url", SUPPLIER, "http://127.0.0.1:8080/r",
                               "--store", url])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["users", "list", "--store", url])
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if row.startswith(SUPPLIER))
    assert "http://127.0.0.1:8080/r" in line and "IS" in line


def test_an_unknown_user_or_a_bad_url_is_refused_by_the_cli(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    runner = CliRunner()
    unknown = runner.invoke(app, ["users", "set-response-url", "00-00-00-00-00-00-00-01",
                                  "http://x/", "--store", url])
    assert unknown.exit_code == 1
    bad = runner.invoke(app, ["users", "set-response-url", SUPPLIER, "ftp://x/", "--store", url])
    assert bad.exit_code != 0


def test_a_log_event_is_one_json_object_with_its_fields() -> None:
    record: list[str] = []

    class Capture(logging.Handler):
        def emit(self, r: logging.LogRecord) -> None:
            record.append(self.format(r))

    logger = logging.getLogger("opendcc.gateway.test")
    handler = Capture()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        log_event(logger, "request", endpoint="serviceD", code="I0", ms=1.5)
    finally:
        logger.removeHandler(handler)
    entry = json.loads(record[0])
    assert entry["event"] == "request"
    assert entry["endpoint"] == "serviceD" and entry["code"] == "I0" and entry["ms"] == 1.5
    assert entry["level"] == "info" and entry["ts"].endswith("+00:00")
