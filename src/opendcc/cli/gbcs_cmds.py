"""CLI commands: `opendcc gbcs decode FILE|HEX [--json]` and `opendcc gbcs encode JSON`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from opendcc.cli.render import json_tree

gbcs_app = typer.Typer(help="GBCS messages: decode to a tree or JSON, encode from JSON.",
                       no_args_is_help=True)


def _is_file(source: str) -> bool:
    try:
        return Path(source).is_file()
    except (OSError, ValueError):  # a long hex or JSON argument is not a path
        return False


def _read_hex(source: str) -> bytes:
    """A message from a file (hex or base64 text, or raw octets) or from hex on the command line."""
    path = Path(source)
    text: str | bytes = source
    if _is_file(source):
        raw = path.read_bytes()
        if raw[:1] in (b"\xdd", b"\xdf", b"\xe0"):
            return raw
        text = raw.decode("ascii", errors="replace")
    compact = "".join(str(text).split())
    try:
        return bytes.fromhex(compact)
    except ValueError:
        import base64
        import binascii

        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise typer.BadParameter("neither a file nor hex/base64 text") from exc


def _keys(verify: bool) -> Any:
    if not verify:
        return None
    from opendcc.config import reference_dir
    from opendcc.smki.keystore import KeyStore

    return KeyStore.from_reference() if reference_dir().is_dir() else None



@gbcs_app.command("decode")
def decode_cmd(
    source: str = typer.Argument(..., help="A file holding the message, or the message in hex."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a tree."),
    verify: bool = typer.Option(True, help="Check signatures and MACs with the reference keys."),
    strict: bool = typer.Option(False, help="Reject message codes that name no use case."),
) -> None:
    """Decode a GBCS message (MAC Header, General Signing, payload) and check its security."""
    from opendcc.gbcs import codec
    from opendcc.gbcs.errors import GbcsError

    keys = _keys(verify)
    try:
        msg = codec.decode(_read_hex(source), keys, strict=strict)
        view = codec.to_json(msg)
        if keys is not None:
            plain = codec.decrypt_payload(msg, keys)
            if plain:
                view["Decrypted Payload"] = [p.hex().upper() for p in plain]
    except GbcsError as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    from rich.console import Console
    from rich.tree import Tree

    uc = msg.use_case
    root = Tree(f"[bold]{msg.kind.value}[/bold] {uc.code} {uc.title} ({uc.message_type or '?'}) "
                f"- {msg.verification.value}")
    for key, value in view.items():
        json_tree(key, value, root)
    Console().print(root)


@gbcs_app.command("encode")
def encode_cmd(
    source: str = typer.Argument(..., help="A JSON file from `gbcs decode --json`, the JSON text, or - for stdin."),
) -> None:
    """Encode a message described in JSON (as `decode --json` prints it) and print its hex."""
    from opendcc.gbcs import codec
    from opendcc.gbcs.errors import GbcsError

    if source == "-":
        text = sys.stdin.read()
    elif _is_file(source):
        text = Path(source).read_text()
    else:
        text = source
    try:
        typer.echo(codec.encode(codec.from_json(json.loads(text))).hex().upper())
    except (GbcsError, ValueError) as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from exc


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(gbcs_app, name="gbcs")
