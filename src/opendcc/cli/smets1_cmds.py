"""`opendcc smets1`: SMETS1 enrolment and adoption progress, and the simulated providers."""

from __future__ import annotations

from typing import Annotated, Any

import typer

StoreOption = Annotated[str | None, typer.Option(
    help="Store URL (default: the embedded SQLite under the data directory).")]


def register(app: typer.Typer) -> None:
    """Add `opendcc smets1 status|report|provider`."""
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
    for c in ("migrated", "rolled_back", "planned"):
        cohorts.add_column(c.replace("_", " "), justify="right")
    bars = Progress(TextColumn("cohort {task.fields[cohort]}"), BarColumn(),
                    TextColumn("{task.completed}/{task.total}"))
    for cohort in p.cohorts:
        k = cohort.counts
        cohorts.add_row(str(cohort.cohort_id), cohort.provider, cohort.model, cohort.firmware,
                        cohort.status, cohort.scheduled_at[:16], ", ".join(cohort.approvers),
                        str(k.migrated), str(k.rolled_back), str(k.planned))
        if cohort.status == "running":
            bars.add_task("", total=max(k.total, 1), completed=k.migrated + k.rolled_back,
                          cohort=cohort.cohort_id)
    return Group(providers, cohorts, bars) if bars.tasks else Group(providers, cohorts)
