"""Progress counts, `opendcc smets1 status` and the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opendcc.cli.main import app
from opendcc.clock import SimulatedClock
from opendcc.smets1.api import create_smets1_router
from opendcc.smets1.migration import MigrationEngine
from opendcc.smets1.progress import counts
from opendcc.smets1.providers.estate import Estate
from opendcc.store.engine import open_store

from .support import LocalAdapter, register_estate
from .test_migration import authorise_all, run_all


def _migrated_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'progress.sqlite3'}"
    store = open_store(url)
    estates = {p: Estate.generate(p, 200, seed=3, dormant_ratio=0.2) for p in ("alpha", "beta")}
    for e in estates.values():
        register_estate(store, e)
        e.faults.update({"failure_rate": 0.1})
    engine = MigrationEngine(store, {p: LocalAdapter(e) for p, e in estates.items()},
                             SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    authorise_all(engine, estates)
    run_all(engine, size=60)
    store.close()
    return url


def test_counts_add_up_per_provider_and_in_total(tmp_path: Path) -> None:
    store = open_store(_migrated_store(tmp_path))
    p = counts(store)
    assert set(p.providers) == {"alpha", "beta"}
    assert p.totals.total == sum(c.total for c in p.providers.values())
    assert p.totals.migrated + p.totals.rolled_back == p.totals.total
    assert p.totals.failed >= p.totals.rolled_back > 0
    assert p.totals.dormant_recovered > 0
    assert sum(c.counts.migrated for c in p.cohorts) == p.totals.migrated
    assert all(len(c.approvers) == 2 for c in p.cohorts)


def test_status_command_prints_providers_and_cohorts(tmp_path: Path) -> None:
    url = _migrated_store(tmp_path)
    result = CliRunner().invoke(app, ["smets1", "status", "--store", url])
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output and "beta" in result.output and "Cohorts" in result.output


def test_progress_api_answers_totals_and_cohorts(tmp_path: Path) -> None:
    store = open_store(_migrated_store(tmp_path))
    web = FastAPI()
    web.include_router(create_smets1_router(store))
    client = TestClient(web)
    body = client.get("/smets1/progress").json()
    assert body["totals"]["migrated"] == counts(store).totals.migrated
    first = body["cohorts"][0]["cohort_id"]
    assert client.get(f"/smets1/cohorts/{first}").json()["cohort_id"] == first
    assert client.get("/smets1/cohorts/999999").status_code == 404
    devices = client.get(f"/smets1/cohorts/{first}/devices").json()
    assert devices and all(d["state"] in ("migrated", "rolled_back") for d in devices)


def test_report_command_lists_each_device_of_a_cohort_with_its_reason(tmp_path: Path) -> None:
    import json

    url = _migrated_store(tmp_path)
    store = open_store(url)
    cohort = next(c for c in counts(store).cohorts if c.counts.rolled_back)
    result = CliRunner().invoke(app, ["smets1", "report", str(cohort.cohort_id), "--store", url, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == cohort.counts.total
    assert all(r["reason"] for r in rows if r["state"] == "rolled_back")
    assert CliRunner().invoke(app, ["smets1", "report", "999999", "--store", url]).exit_code == 1
