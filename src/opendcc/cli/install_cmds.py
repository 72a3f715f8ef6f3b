"""`opendcc install` and `opendcc switch`: script an installation and a change of supplier."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

StoreOption = Annotated[str | None, typer.Option(
    help="Store URL (default: the embedded SQLite under the data directory).")]
ZAZ1_NETWORK_OPERATOR = "90-B3-D5-1F-30-02-00-00"


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    """Add `opendcc install premises` and `opendcc switch run|status`."""
    install = typer.Typer(help="Install and commission devices.", no_args_is_help=True)
    switch = typer.Typer(help="Change of supplier (CS02b via the Transitional CoS party).",
                         no_args_is_help=True)
    app.add_typer(install, name="install")
    app.add_typer(switch, name="switch")

    @install.command("premises")
    def premises(
        mpan: Annotated[str, typer.Option(help="The premises' import MPAN")],
        supplier: Annotated[str, typer.Option(help="Installing supplier (EUI-64)")],
        mprn: Annotated[str | None, typer.Option(help="MPRN: also install a gas meter")] = None,
        network_operator: Annotated[str, typer.Option(help="Network operator (EUI-64)")] = ZAZ1_NETWORK_OPERATOR,
        ppmid: Annotated[bool, typer.Option(help="Also join a PPMID")] = True,
        at: Annotated[str | None, typer.Option(help="When (ISO 8601; default now)")] = None,
        store: StoreOption = None,
    ) -> None:
        """Register (if new), pre-notify, install the hub, whitelist, join and commission."""
        from opendcc.duis.response_codes import DuisError
        from opendcc.ids import EUI64, InvalidIdentifier
        from opendcc.inventory.demo import seed_demo
        from opendcc.inventory.registration_feed import RegistrationFeedError
        from opendcc.inventory.scripting import install_premises
        from opendcc.store import inventory as repo
        from opendcc.store.engine import open_store

        opened = open_store(store)
        try:
            seed_demo(opened)  # the ZAZ1 users the suppliers are (idempotent)
            visit = install_premises(opened, EUI64.parse(supplier), EUI64.parse(network_operator),
                                     mpan=mpan, mprn=mprn, ppmid=ppmid, now=_when(at))
            with opened.connect() as conn:
                for d in visit.devices():
                    rec = repo.get_device(conn, d.eui)
                    assert rec is not None
                    points = " ".join(str(m) for m in rec.mpxns) or "-"
                    typer.echo(f"{rec.device_id}  {rec.device_type:<6} {rec.status:<24} {points}")
        except (DuisError, RegistrationFeedError, InvalidIdentifier) as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        finally:
            opened.close()

    @switch.command("run")
    def run(
        mpxns: Annotated[list[str], typer.Argument(help="MPANs / MPRNs to switch")],
        to: Annotated[str, typer.Option(help="The new supplier (EUI-64)")],
        at: Annotated[str | None, typer.Option(help="Effective from (ISO 8601; default now)")] = None,
        store: StoreOption = None,
    ) -> None:
        """Register the new supplier and, once effective, replace the supplier anchors on the
        meters (emulated here, rebuilt from the inventory trusting the current supplier)."""
        from opendcc.core.change_of_supplier import meters_of
        from opendcc.devices.esme import ESME
        from opendcc.devices.gsme import GSME
        from opendcc.duis.response_codes import DuisError
        from opendcc.ids import EUI64, InvalidIdentifier, MPxN
        from opendcc.inventory.installation import EmulatedCredentials, installation_anchors
        from opendcc.inventory.lifecycle import DeviceType
        from opendcc.inventory.registration_feed import RegistrationFeedError
        from opendcc.inventory.scripting import switch_supplier
        from opendcc.store import inventory as repo
        from opendcc.store.engine import open_store

        opened = open_store(store)
        now = datetime.now(UTC)
        try:
            points = [MPxN.parse(m) for m in mpxns]
            emulated: list[ESME | GSME] = []
            with opened.connect() as conn:
                for m in points:
                    reg = repo.registration_at(conn, m, now)
                    for rec in meters_of(conn, m) if reg else []:
                        kind = ESME if rec.device_type is DeviceType.ESME else GSME
                        meter = kind(rec.device_id, mpxn=m)
                        meter.anchors = installation_anchors(reg.supplier_id, reg.network_operator_id)  # type: ignore[union-attr]
                        emulated.append(meter)
            effective = now if at is None else _when(at)
            done = switch_supplier(opened, points, EUI64.parse(to), effective,
                                   EmulatedCredentials.of(emulated), now=now)
        except (DuisError, RegistrationFeedError, InvalidIdentifier) as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        finally:
            opened.close()
        for s in done:
            typer.echo(f"{s.mpxn}  {s.old_supplier} -> {s.new_supplier}  {s.step}  "
                       f"{' '.join(sorted(s.devices_done)) or '-'}")

    @switch.command("status")
    def status(store: StoreOption = None) -> None:
        """Every change of supplier and its step."""
        from opendcc.inventory import switches
        from opendcc.store.engine import open_store

        opened = open_store(store)
        try:
            with opened.connect() as conn:
                rows = switches.all_switches(conn)
        finally:
            opened.close()
        for s in rows:
            typer.echo(f"{s.mpxn}  {s.effective_from.isoformat()}  {s.old_supplier} -> "
                       f"{s.new_supplier}  {s.step}")
