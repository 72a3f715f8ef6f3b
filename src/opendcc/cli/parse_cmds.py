"""CLI command: `opendcc parse FILE` — a device Response/Alert (DUIS XML or GBCS hex) as MMC XML."""

from __future__ import annotations

from pathlib import Path

import typer
from lxml import etree

from opendcc.cli.render import json_tree


def parse_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="DUIS Response XML, or GBCS as hex or octets"),
    tree: bool = typer.Option(False, "--tree", help="Print a tree of the decoded message instead of MMC XML"),
    srv: str | None = typer.Option(None, "--srv", help="Service Reference Variant, when the input does not say"),
    user: str | None = typer.Option(None, "--user", help="Refuse a message not addressed to this EUI-64"),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Check signatures/MACs and decrypt with the reference keys"),
) -> None:
    """Parse and Correlate: print the MMC 5.4 ra:GBCSResponse (or a tree) of a device answer."""
    from opendcc.client.parse import ParseAndCorrelateError, parse
    from opendcc.config import reference_dir
    from opendcc.ids import EUI64

    keys = None
    if verify and reference_dir().is_dir():
        from opendcc.smki.keystore import KeyStore

        keys = KeyStore.from_reference()
    try:
        parsed = parse(file.read_bytes(), keys=keys, srv=srv, user=EUI64.parse(user) if user else None)
    except ParseAndCorrelateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if tree:
        from rich.console import Console
        from rich.tree import Tree

        root = Tree(f"[bold]{parsed.use_case}[/bold] {parsed.use_case_title}")
        json_tree("message", parsed.to_json(), root)
        if parsed.decrypted.view is not None:
            json_tree("payload (decrypted)", parsed.decrypted.view, root)
        Console().print(root)
        return
    typer.echo(etree.tostring(parsed.to_mmc_xml(), pretty_print=True, encoding="unicode"), nl=False)


def register(app: typer.Typer) -> None:
    """Add `parse` to the opendcc command line."""
    app.command("parse")(parse_command)
