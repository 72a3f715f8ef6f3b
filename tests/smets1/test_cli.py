"""The migration workflow from the command line, against two provider processes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from opendcc.cli.main import app
from opendcc.smets1.models import eligible
from opendcc.smets1.providers.estate import Estate
from opendcc.store.engine import open_store

from .support import provider_process, register_estate, registered_supplier


def test_authorise_plan_approve_run_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    estates = {p: Estate.generate(p, 60, seed=4) for p in ("alpha", "beta")}
    store = open_store(url)
    for e in estates.values():
        register_estate(store, e)
    store.close()
    supplier = "90B3D51F30010000"
    mine = [(p, m) for p, e in estates.items() for m in e.meters.values() if registered_supplier(m) == supplier]
    csv = tmp_path / "authorisation.csv"
    csv.write_text("".join(f"{m.device_id},{m.mpxn},{p}\n" for p, m in mine))
    runner = CliRunner()
    with provider_process("alpha", 60, 4) as alpha, provider_process("beta", 60, 4) as beta:
        providers = ["--alpha", alpha, "--beta", beta, "--store", url]
        result = runner.invoke(app, ["smets1", "authorise", supplier, str(csv), *providers])
        assert result.exit_code == 0, result.output
        accepted = sum(eligible(m.model, m.firmware) for _, m in mine)
        assert f"{accepted}/{len(mine)} accepted" in result.output
        result = runner.invoke(app, ["smets1", "plan", "--size", "1000", "--interval-minutes", "0", "--store", url])
        cohorts = result.output.split(":")[-1].strip().split(", ")
        for c in cohorts:
            assert runner.invoke(app, ["smets1", "approve", c, "--by", "alice", "--store", url]).exit_code == 0
            same = runner.invoke(app, ["smets1", "approve", c, "--by", "alice", "--store", url])
            assert same.exit_code == 1 and "different approver" in same.output
            assert runner.invoke(app, ["smets1", "approve", c, "--by", "bob", "--store", url]).exit_code == 0
        result = runner.invoke(app, ["smets1", "run", *providers])
        assert result.exit_code == 0, result.output
        migrated = sum(int(line.split(": ")[1].split()[0]) for line in result.output.splitlines())
        assert migrated == accepted
