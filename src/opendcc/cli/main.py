"""The `opendcc` command line: one typer app, each area contributing its own commands."""

from __future__ import annotations

import typer

from opendcc.cli import (
    devices_cmds,
    duis_cmds,
    gbcs_cmds,
    install_cmds,
    inventory_cmds,
    parse_cmds,
    serve_cmd,
    smets1_cmds,
    smki_cmds,
    users_cmds,
)

app = typer.Typer(
    name="opendcc",
    help="opendcc: a runnable model of the GB smart-metering DCC (DUIS, GBCS, SMKI).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)



@app.callback()
def main() -> None:
    """opendcc: a runnable model of the GB smart-metering DCC."""


@app.command()
def version() -> None:
    """Print the opendcc version."""
    from opendcc import __version__

    typer.echo(__version__)


serve_cmd.register(app)
duis_cmds.register(app)
gbcs_cmds.register(app)
smki_cmds.register(app)
users_cmds.register(app)
inventory_cmds.register(app)
install_cmds.register(app)
parse_cmds.register(app)
smets1_cmds.register(app)
devices_cmds.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
