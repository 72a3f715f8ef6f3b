"""`opendcc inventory`: the Smart Metering Inventory and registration data in the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

StoreOption = Annotated[str | None, typer.Option(
    help="Store URL (default: the embedded SQLite under the data directory).")]


def register(app: typer.Typer) -> None:
    """Add `opendcc inventory show|history|load-registrations|seed-demo`."""
    inventory = typer.Typer(help="Smart Metering Inventory and registration data.",
                            no_args_is_help=True)
    app.add_typer(inventory, name="inventory")

    @inventory.command("show")
    def show(
        key: Annotated[str, typer.Argument(help="A Device ID (EUI-64) or an MPAN/MPRN")],
        store: StoreOption = None,
    ) -> None:
        """The device (or the meter point's devices) with every device on the same comms hub."""
        from opendcc.ids import EUI64, InvalidIdentifier, MPxN
        from opendcc.store import inventory as repo
        from opendcc.store.engine import open_store

        opened = open_store(store)
        try:
            with opened.connect() as conn:
                try:
                    device = repo.get_device(conn, EUI64.parse(key))
                    devices = [] if device is None else repo.devices_for_device(conn, device)
                except InvalidIdentifier:
                    devices = repo.devices_for_mpxn(conn, MPxN.parse(key))
        except InvalidIdentifier as exc:
            raise typer.BadParameter(str(exc)) from None
        finally:
            opened.close()
        if not devices:
            typer.echo(f"nothing in the inventory for {key}", err=True)
            raise typer.Exit(1)
        for d in devices:
            points = " ".join(str(m) for m in d.mpxns) or "-"
            typer.echo(f"{d.device_id}  {d.device_type:<6} {d.status:<24} {points}")

    @inventory.command("history")
    def history(
        mpxn: Annotated[str, typer.Argument(help="MPAN or MPRN")],
        store: StoreOption = None,
    ) -> None:
        """A meter point's registration records, oldest first."""
        from opendcc.ids import InvalidIdentifier, MPxN
        from opendcc.store import inventory as repo
        from opendcc.store.engine import open_store

        try:
            point = MPxN.parse(mpxn)
        except InvalidIdentifier as exc:
            raise typer.BadParameter(str(exc)) from None
        opened = open_store(store)
        try:
            with opened.connect() as conn:
                records = repo.registrations_of(conn, point)
        finally:
            opened.close()
        for r in records:
            typer.echo(f"{r.effective_from.isoformat()}  supplier {r.supplier_id}  "
                       f"network operator {r.network_operator_id}")

    @inventory.command("load-registrations")
    def load_registrations(
        feed: Annotated[Path, typer.Argument(help="CSV: mpxn,supplier_id,network_operator_id,effective_from")],
        store: StoreOption = None,
    ) -> None:
        """Apply a registration data feed, whole or not at all."""
        from opendcc.inventory.registration_feed import RegistrationFeedError, apply_feed
        from opendcc.store.engine import open_store

        text = feed.read_text(encoding="utf-8")
        opened = open_store(store)
        try:
            with opened.begin() as conn:
                count = apply_feed(conn, text, datetime.now(UTC))
        except RegistrationFeedError as exc:
            typer.echo(f"{feed}: {exc}; nothing applied", err=True)
            raise typer.Exit(1) from None
        finally:
            opened.close()
        typer.echo(f"{count} registration records applied")

    @inventory.command("seed-demo")
    def seed_demo(store: StoreOption = None) -> None:
        """Load the ZAZ1 users and the DCC Boxed / RTDS demo estate (idempotent)."""
        from opendcc.inventory.demo import seed_demo as seed
        from opendcc.store.engine import open_store

        opened = open_store(store)
        try:
            seed(opened)
        finally:
            opened.close()
        typer.echo("demo estate loaded")
