"""`opendcc install` and `opendcc switch`: script an installation and a change of supplier.

`opendcc install premises` and `opendcc switch run` work on the store directly (the emulated
devices live for the command); `opendcc install duis`, `install status`, `install decommission`
and `opendcc switch duis` are a supplier's DUIS requests to a running DCC (`opendcc serve`)
through the SDK (`client.install`, `client.switch`); `opendcc switch register` posts a
registration feed to a running DCC's `/admin/registrations`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import httpx

    from opendcc.client import DccClient

StoreOption = Annotated[str | None, typer.Option(
    help="Store URL (default: the embedded SQLite under the data directory).")]
ZAZ1_NETWORK_OPERATOR = "90-B3-D5-1F-30-02-00-00"


UrlOption = Annotated[str, typer.Option(help="The DCC's DUIS endpoint base URL.")]
UserOption = Annotated[str, typer.Option(
    "--supplier", help="The supplier sending the requests (EUI-64; a ZAZ1 test user's keys).")]


def _reference_client(user: str, url: str) -> DccClient:
    from opendcc.client import DccClient

    return DccClient.from_reference(user, url)


#: How the DUIS commands get their client (tests put one over an in-process gateway here).
make_client: Callable[[str, str], DccClient] = _reference_client


def _http() -> httpx.Client | None:
    return None  # the SDK opens (and closes) its own


#: The HTTP client for admin requests (tests put an in-process gateway's here).
make_http: Callable[[], httpx.Client | None] = _http


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    """Add `opendcc install ...` and `opendcc switch run|register|duis|status`."""
    install = typer.Typer(help="Install and commission devices.", no_args_is_help=True)
    switch = typer.Typer(help="Change of supplier (CS02b via the Transitional CoS party): "
                              "`register` + `duis` against a running DCC, `run` offline.",
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

    @install.command("duis")
    def duis(
        chf: Annotated[str, typer.Option(help="Comms hub CHF (EUI-64)")],
        gpf: Annotated[str, typer.Option(help="Comms hub GPF (EUI-64)")],
        esme: Annotated[str, typer.Option(help="Electricity meter (EUI-64)")],
        mpan: Annotated[str, typer.Option(help="The ESME's import MPAN")],
        esme_install_code: Annotated[str, typer.Option(help="ESME install code (hex)")],
        supplier: UserOption,
        url: UrlOption = "http://127.0.0.1:8079",
        gsme: Annotated[str | None, typer.Option(help="Gas meter (EUI-64)")] = None,
        mprn: Annotated[str | None, typer.Option(help="The GSME's MPRN")] = None,
        gsme_install_code: Annotated[str | None, typer.Option(help="GSME install code")] = None,
        ppmid: Annotated[str | None, typer.Option(help="PPMID to join to the ESME")] = None,
        ppmid_install_code: Annotated[str | None, typer.Option(help="PPMID install code")] = None,
        device_log: Annotated[bool, typer.Option(
            help="Send 8.11 for the meters and PPMID (off: the hub's log already has them)")] = True,
        at: Annotated[str | None, typer.Option(help="Meter clock for 8.1.1 (default now)")] = None,
    ) -> None:
        """Install and commission a premises over DUIS: 12.2, 8.4, 8.14.1, 8.11, 8.7.1, 8.1.1."""
        from opendcc.client.errors import ClientError
        from opendcc.client.install import (
            InstallationFailed,
            Installer,
            PremisesPlan,
            install_premises,
        )

        plan = PremisesPlan(chf=chf, gpf=gpf, esme=esme, mpan=mpan,
                            esme_install_code=esme_install_code, gsme=gsme, mprn=mprn,
                            gsme_install_code=gsme_install_code, ppmid=ppmid,
                            ppmid_install_code=ppmid_install_code, commission_at=_when(at))
        try:
            with make_client(supplier, url) as client:
                steps = install_premises(Installer(client), plan, add_to_device_log=device_log)
        except InstallationFailed as exc:
            typer.echo(f"refused at {exc.step}: {exc.reason}", err=True)
            raise typer.Exit(1) from None
        except (ClientError, ValueError) as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        for step, response in steps:
            typer.echo(f"{response.response_code:<4} {step}")

    @install.command("status")
    def status_of(
        devices: Annotated[list[str], typer.Argument(help="Device IDs (EUI-64)")],
        supplier: UserOption,
        url: UrlOption = "http://127.0.0.1:8079",
    ) -> None:
        """Each device's SMI Status, from SRV 8.2 Read Inventory."""
        from opendcc.client.install import Installer

        with make_client(supplier, url) as client:
            installer = Installer(client)
            for device in devices:
                typer.echo(f"{device}  {installer.status(device) or 'not in the inventory'}")

    @install.command("decommission")
    def decommission(
        device: Annotated[str, typer.Argument(help="Device ID (EUI-64)")],
        supplier: UserOption,
        url: UrlOption = "http://127.0.0.1:8079",
    ) -> None:
        """SRV 8.3 Decommission Device."""
        from opendcc.client.install import Installer

        with make_client(supplier, url) as client:
            code = Installer(client).decommission(device).response_code
        typer.echo(f"{code} 8.3 {device}")
        if code != "I0":
            raise typer.Exit(1)

    @switch.command("run")
    def run(
        mpxns: Annotated[list[str], typer.Argument(help="MPANs / MPRNs to switch")],
        to: Annotated[str, typer.Option(help="The new supplier (EUI-64)")],
        at: Annotated[str | None, typer.Option(help="Effective from (ISO 8601; default now)")] = None,
        store: StoreOption = None,
    ) -> None:
        """Offline, on a store: register the new supplier and, once effective, replace the
        supplier anchors on emulated meters rebuilt for the command (trusting the current
        supplier). Against a running DCC use `switch register` and `switch duis`."""
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

    @switch.command("register")
    def register_feed(
        feed: Annotated[Path, typer.Argument(
            help="CSV: mpxn,supplier_id,network_operator_id,effective_from")],
        url: UrlOption = "http://127.0.0.1:8079",
    ) -> None:
        """Send a registration feed to a running DCC (POST /admin/registrations), whole or
        not at all: what a registration data provider does before a change of supplier."""
        from opendcc.client.errors import ClientError
        from opendcc.client.switch import send_registration_feed

        try:
            applied = send_registration_feed(url, feed.read_text(encoding="utf-8"),
                                             http=make_http())
        except (ClientError, OSError, UnicodeDecodeError) as exc:
            typer.echo(f"{feed}: refused: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{applied} registration records applied")

    @switch.command("duis")
    def switch_duis(
        mpxns: Annotated[list[str], typer.Argument(help="MPANs / MPRNs to take over")],
        supplier: UserOption,
        url: UrlOption = "http://127.0.0.1:8079",
        meter: Annotated[str | None, typer.Option(
            help="Only this meter (EUI-64) of a single MPxN; default: every ESME/GSME the "
                 "inventory (8.2) has at each MPxN")] = None,
        path_cert: Annotated[list[Path] | None, typer.Option(
            help="CA certificate (PEM or DER) that issued the supplier's SMKI certificates; "
                 "repeat for a longer path (default: the ZAZ1 path of the reference folder)"
        )] = None,
        timeout: Annotated[float, typer.Option(
            help="Seconds to wait for each meter's Response (a battery GSME answers when it "
                 "next wakes: up to 30 minutes)")] = 60.0,
    ) -> None:
        """The gaining supplier's SRV 6.23 (CoS) for each meter at the MPxNs, over DUIS to a
        running DCC: its SMKI certificates reach the meters through the Transitional CoS party
        (CS02b); the meters' Responses come back (I0). E4: not the registered supplier."""
        from opendcc.client.errors import ClientError
        from opendcc.client.switch import Switcher, SwitchRefused, load_certificates

        if meter is not None and len(mpxns) != 1:
            raise typer.BadParameter("--meter goes with exactly one MPxN")
        failed = False
        try:
            with make_client(supplier, url) as client:
                switcher = Switcher(client, certification_path=(
                    load_certificates(path_cert) if path_cert else None))
                for point in mpxns:
                    try:
                        meters = [meter] if meter else switcher.meters_at(point)
                        if not meters:
                            raise SwitchRefused(point, None, "no meter in service there")
                        for m in meters:
                            code = switcher.switch(m, point, timeout=timeout).response_code
                            typer.echo(f"{code:<4} 6.23 {m} {point}")
                    except SwitchRefused as exc:
                        typer.echo(f"refused: {exc}", err=True)
                        failed = True
        except (ClientError, OSError, ValueError) as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        if failed:
            raise typer.Exit(1)

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
