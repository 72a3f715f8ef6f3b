"""CLI commands: `opendcc devices estate|read`: look at the emulated estate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opendcc.clock import SimulatedClock
from opendcc.devices.errors import DeviceError
from opendcc.devices.estate import Estate
from opendcc.devices.meter import Meter
from opendcc.ids import InvalidIdentifier

devices_app = typer.Typer(name="devices", help="The emulated SMETS2 estate: list premises, read meters.",
                          no_args_is_help=True)
console = Console()

Seed = Annotated[int, typer.Option("--seed", help="Estate seed: same seed, same estate.")]
Premises = Annotated[int, typer.Option("--premises", "-n", help="Generated premises.")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(devices_app, name="devices")


@devices_app.command("estate")
def estate_cmd(premises: Premises = 10, seed: Seed = 0,
               boxed: Annotated[bool, typer.Option(help="Include the DCC Boxed devices.")] = True
               ) -> None:
    """List the premises of a demo estate, tab-separated: hub, meters, MPAN/MPRN, other devices."""
    estate = Estate.demo(premises, seed, boxed=boxed)
    typer.echo("\t".join(("hub", "esme", "mpan", "gsme", "mprn", "others")))
    for p in estate.premises:
        typer.echo("\t".join((p.hub, p.esme.id, str(p.esme.mpxn), p.gsme.id if p.gsme else "",
                              str(p.gsme.mpxn) if p.gsme else "",
                              ",".join(d.id for d in p.others))))


@devices_app.command("read")
def read_cmd(device_id: str, premises: Premises = 10, seed: Seed = 0,
             days: Annotated[float, typer.Option(help="Simulated days after commissioning.")] = 1.0
             ) -> None:
    """Read a meter of the demo estate after some simulated time: registers, tariff, supply."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    estate = Estate.demo(premises, seed, clock=SimulatedClock(start))
    try:
        device = estate.device(device_id)
    except (DeviceError, InvalidIdentifier) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if not isinstance(device, Meter):
        console.print(f"[bold red]error:[/] {device_id} is a {device.kind.value}, not a meter")
        raise typer.Exit(2)
    now = start + timedelta(days=days)
    regs = device.read_instantaneous_import_registers(now).value
    prepay = device.read_prepayment_registers(now).value
    table = Table("item", "value")
    table.add_row("device", f"{device.kind.value} {device.id} ({device.mpxn})")
    table.add_row("time", now.isoformat())
    table.add_row("import register", f"{regs.total_wh:,} Wh")
    table.add_row("TOU registers", ", ".join(f"{wh:,}" for wh in regs.tou_wh))
    table.add_row("last 24 h", f"{regs.total_wh - device.register(now - timedelta(days=1)):,} Wh")
    table.add_row("tariff", f"{device.tariff.tou_prices} (1/100 p per kWh), standing "
                            f"{device.tariff.standing_charge} per day")
    table.add_row("payment mode, balance", f"{prepay.mode.value}, {prepay.balance / 10_000:.2f} GBP")
    table.add_row("supply", device.supply_state.value)
    console.print(table)
