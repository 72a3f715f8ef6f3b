"""`opendcc smets1`: SMETS1 enrolment and adoption progress, and the simulated providers."""

from __future__ import annotations

from typing import Annotated, Any

import typer

StoreOption = Annotated[str | None, typer.Option(
    help="Store URL (default: the embedded SQLite under the data directory).")]
AlphaOption = Annotated[str | None, typer.Option(help="Provider alpha's head-end, e.g. http://127.0.0.1:9101")]
BetaOption = Annotated[str | None, typer.Option(help="Provider beta's head-end, e.g. 127.0.0.1:9102")]


def _engine(store: str | None, alpha: str | None, beta: str | None) -> Any:
    """A MigrationEngine on the wall clock over the providers given."""
    from opendcc.clock import SystemClock
    from opendcc.smets1.adapters import connect
    from opendcc.smets1.migration import MigrationEngine
    from opendcc.store.engine import open_store

    adapters = {name: connect(name, address) for name, address in (("alpha", alpha), ("beta", beta))
                if address}
    return MigrationEngine(open_store(store), adapters, SystemClock())


def register(app: typer.Typer) -> None:
    """Add `opendcc smets1 authorise|plan|approve|run|status|report|provider`."""
    smets1 = typer.Typer(help="SMETS1 enrolment and adoption.", no_args_is_help=True)
    app.add_typer(smets1, name="smets1")

    @smets1.command("status")
    def status(store: StoreOption = None,
               watch: Annotated[float, typer.Option(help="Refresh every N seconds (0: once).")] = 0.0,
               ) -> None:
        """Counts per provider and per cohort, with a progress bar for each running cohort."""
        import time

        from rich.console import Console, Group
        from rich.live import Live

        from opendcc.store.engine import open_store

        opened = open_store(store)
        console = Console()
        try:
            if watch <= 0:
                console.print(_render(opened))
                return
            with Live(Group(), console=console, refresh_per_second=4) as live:
                while True:
                    live.update(_render(opened))
                    time.sleep(watch)
        except KeyboardInterrupt:
            pass
        finally:
            opened.close()

    @smets1.command("authorise")
    def authorise(
        supplier: Annotated[str, typer.Argument(help="Supplier User ID (EUI-64)")],
        lines: Annotated[str, typer.Argument(help="CSV file: device_id,mpxn,provider per line")],
        store: StoreOption = None, alpha: AlphaOption = None, beta: BetaOption = None,
    ) -> None:
        """Submit a supplier's migration authorisation; prints each line's outcome."""
        import csv
        from pathlib import Path

        from opendcc.smets1.migration import AuthorisationLine

        with Path(lines).open(newline="") as f:
            rows = [AuthorisationLine(*(c.strip() for c in r[:3])) for r in csv.reader(f) if len(r) >= 3
                    and not r[0].startswith("#")]
        engine = _engine(store, alpha, beta)
        outcomes = engine.authorise(supplier, rows)
        for o in outcomes:
            typer.echo(f"{o.device_id}  {'accepted' if o.accepted else 'refused: ' + str(o.reason)}")
        typer.echo(f"{sum(o.accepted for o in outcomes)}/{len(outcomes)} accepted")

    @smets1.command("plan")
    def plan(store: StoreOption = None,
             size: Annotated[int, typer.Option(help="Cohort size limit")] = 1000,
             interval_minutes: Annotated[float, typer.Option(help="Minutes between cohort starts")] = 60.0,
             ) -> None:
        """Plan authorised and rolled-back devices into cohorts, starting now."""
        from datetime import timedelta

        engine = _engine(store, None, None)
        ids = engine.plan_cohorts(size_limit=size, interval=timedelta(minutes=interval_minutes))
        typer.echo(f"planned {len(ids)} cohorts: {', '.join(map(str, ids)) or '-'}")

    @smets1.command("approve")
    def approve(cohort: Annotated[int, typer.Argument(help="Cohort id")],
                by: Annotated[str, typer.Option(help="Approver's name")], store: StoreOption = None) -> None:
        """Dual control: record one of a cohort's two approvals (by different people)."""
        from opendcc.smets1.cohorts import CohortError

        try:
            status = _engine(store, None, None).approve(cohort, by)
        except CohortError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        typer.echo(f"cohort {cohort}: {status}")

    @smets1.command("run")
    def run(store: StoreOption = None, alpha: AlphaOption = None, beta: BetaOption = None,
            cohort: Annotated[int | None, typer.Option(help="Run this cohort now")] = None) -> None:
        """Resume anything interrupted, then run the approved cohorts that are due (or one cohort)."""
        from opendcc.smets1.cohorts import CohortError

        engine = _engine(store, alpha, beta)
        try:
            reports = engine.resume()
            reports += [engine.run_cohort(cohort)] if cohort is not None else engine.run_due()
        except CohortError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        for r in reports:
            typer.echo(f"cohort {r.cohort_id}: {len(r.migrated)} migrated, {len(r.rolled_back)} rolled back, "
                       f"{len(r.in_doubt)} in doubt")

    @smets1.command("report")
    def report(cohort: Annotated[int, typer.Argument(help="Cohort id")], store: StoreOption = None,
               as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
               ) -> None:
        """Per-device report of one cohort: state, reason, attempts."""
        import json
        from dataclasses import asdict

        from rich.console import Console
        from rich.table import Table

        from opendcc.smets1.progress import device_report
        from opendcc.store.engine import open_store

        opened = open_store(store)
        try:
            rows = device_report(opened, cohort)
        finally:
            opened.close()
        if not rows:
            typer.echo(f"no devices in SMETS1 cohort {cohort}", err=True)
            raise typer.Exit(1)
        if as_json:
            for r in rows:
                typer.echo(json.dumps(asdict(r)))
            return
        table = Table(title=f"Cohort {cohort}")
        for c in ("device", "MPxN", "provider", "model", "firmware", "state", "attempts", "reason"):
            table.add_column(c)
        for r in rows:
            table.add_row(r.device_id, r.mpxn, r.provider, r.model, r.firmware,
                          r.state + (" (dormant)" if r.dormant else ""), str(r.attempts), r.reason or "")
        Console().print(table)

    @smets1.command("provider")
    def provider(
        name: Annotated[str, typer.Argument(help="alpha (JSON/HTTP) or beta (binary TCP)")],
        port: Annotated[int, typer.Option(help="TCP port to listen on")],
        size: Annotated[int, typer.Option(help="Meters in the estate")] = 1000,
        seed: Annotated[int, typer.Option(help="Estate seed")] = 1,
        failure_rate: Annotated[float, typer.Option(help="Per-device failure rate")] = 0.0,
    ) -> None:
        """Run a simulated SMETS1 service provider in the foreground."""
        argv = ["--port", str(port), "--size", str(size), "--seed", str(seed),
                "--failure-rate", str(failure_rate)]
        if name == "alpha":
            from opendcc.smets1.providers import alpha

            alpha.main(argv)
        elif name == "beta":
            from opendcc.smets1.providers import beta

            beta.main(argv)
        else:
            raise typer.BadParameter(f"no SMETS1 provider {name!r} (alpha, beta)")


def _render(store: object) -> Any:
    """Rich renderables: a per-provider table, a per-cohort table, bars for running cohorts."""
    from rich.console import Group
    from rich.progress import BarColumn, Progress, TextColumn
    from rich.table import Table

    from opendcc.smets1.progress import counts
    from opendcc.store.engine import Store

    assert isinstance(store, Store)
    p = counts(store)
    columns = ("planned", "migrated", "failed", "rolled_back", "dormant_recovered", "in_doubt", "total")
    providers = Table(title="SMETS1 adoption by provider")
    providers.add_column("provider")
    for c in columns:
        providers.add_column(c.replace("_", " "), justify="right")
    for name, k in [*sorted(p.providers.items()), ("all", p.totals)]:
        providers.add_row(name, *(str(getattr(k, col)) for col in columns))
    cohorts = Table(title="Cohorts")
    for c in ("id", "provider", "model", "firmware", "status", "scheduled", "approvers"):
        cohorts.add_column(c)
    for c in ("migrated", "rolled_back", "planned", "in_doubt"):
        cohorts.add_column(c.replace("_", " "), justify="right")
    bars = Progress(TextColumn("cohort {task.fields[cohort]}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"))
    for cohort in p.cohorts:
        k = cohort.counts
        cohorts.add_row(str(cohort.cohort_id), cohort.provider, cohort.model, cohort.firmware,
                        cohort.status, cohort.scheduled_at[:16], ", ".join(cohort.approvers),
                        str(k.migrated), str(k.rolled_back), str(k.planned), str(k.in_doubt))
        if cohort.status == "running":
            bars.add_task("", total=max(k.total, 1), completed=k.migrated + k.rolled_back,
                          cohort=cohort.cohort_id)
    return Group(providers, cohorts, bars) if bars.tasks else Group(providers, cohorts)
