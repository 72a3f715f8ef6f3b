"""CLI commands: `opendcc sign|verify|validate FILE` and `opendcc srv list|show`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opendcc.duis import xmldsig
from opendcc.duis.catalogue import ServiceRequestVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import DuisError, meaning
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64, InvalidIdentifier

srv_app = typer.Typer(name="srv", help="The DUIS Service Request Variant catalogue.",
                      no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

# Exit codes: 1 the document was judged and refused, 2 the command could not judge it.
REFUSED, UNUSABLE = 1, 2


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("sign")(sign)
    app.command("verify")(verify)
    app.command("validate")(validate)
    app.add_typer(srv_app, name="srv")


def _fail(message: str, code: int = UNUSABLE) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _refused(exc: DuisError) -> typer.Exit:
    label = f"{exc.code.value} ({meaning(exc.code)})" if exc.code else f"HTTP {exc.http_status}"
    return _fail(f"{type(exc).__name__}: {exc.detail} [{label}]", REFUSED)


def _read(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None


def sign(
    file: Annotated[Path, typer.Argument(help="DUIS XML to sign ('-' for stdin).")],
    key: Annotated[Path | None, typer.Option(help="PEM private key (with --cert).")] = None,
    cert: Annotated[Path | None, typer.Option(help="PEM certificate (with --key).")] = None,
    user: Annotated[str | None, typer.Option(
        help="Sign as this user's XML-signing credential from the reference keys (EUI-64).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here, not stdout.")] = None,
) -> None:
    """Sign a DUIS document (enveloped XMLDSig, ECDSA P-256); default signer: the RequestID originator."""
    from opendcc.smki.keystore import KeyStore, load_certificate, load_private_key

    try:
        root = parse_xml(_read(file))
    except DuisError as exc:
        raise _refused(exc) from None
    if (key is None) != (cert is None):
        raise _fail("--key and --cert go together")
    if key is not None and cert is not None:
        try:
            private_key = load_private_key(key.read_bytes())
            certificate = load_certificate(cert.read_bytes())
        except (OSError, ValueError) as exc:
            raise _fail(f"cannot load key/certificate: {exc}") from None
    else:
        try:
            entity = EUI64.parse(user) if user else read_request(root).request_id.originator
        except (InvalidIdentifier, DuisError, ValueError) as exc:
            raise _fail(f"no signer: give --user, --key/--cert, or a request with a RequestID ({exc})") from None
        credential = KeyStore.from_reference().xml_signing(entity)
        if credential is None or credential.private_key is None:
            raise _fail(f"no XML-signing key for {entity} in the reference keys")
        private_key, certificate = credential.private_key, credential.certificate
    xmldsig.sign(root, private_key, certificate)
    from opendcc.duis.response import serialize

    data = serialize(root)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)


def verify(
    file: Annotated[Path, typer.Argument(help="Signed DUIS XML ('-' for stdin).")],
) -> None:
    """Verify a DUIS signature against the SMKI certificates of the reference keys (and their dates)."""
    from opendcc.smki.keystore import KeyStore

    try:
        root = parse_xml(_read(file))
        verified = xmldsig.verify(root, KeyStore.from_reference().lookup, at=datetime.now(UTC))
    except DuisError as exc:
        raise _refused(exc) from None
    subject = verified.certificate.subject.rfc4514_string()
    console.print(f"signature valid: issuer {verified.issuer}, serial {verified.serial}, "
                  f"subject {subject}", highlight=False)


def validate(
    file: Annotated[Path, typer.Argument(help="DUIS XML ('-' for stdin).")],
) -> None:
    """Check a DUIS document against DUIS Schema V5.4 (safe parsing, no signature check)."""
    try:
        validate_duis(parse_xml(_read(file)))
    except DuisError as exc:
        raise _refused(exc) from None
    console.print("valid against DUIS Schema V5.4")


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


@srv_app.command("list")
def srv_list(
    role: Annotated[str | None, typer.Option(help="Only SRVs this user role may send (e.g. IS).")] = None,
    critical: Annotated[bool | None, typer.Option("--critical/--non-critical",
                                                  help="Only critical / non-critical SRVs.")] = None,
) -> None:
    """List the Service Request Variants of DUIS 5.4."""
    rows = [s for s in load_catalogue()
            if (role is None or role.upper() in s.eligible_roles)
            and (critical is None or s.critical == critical)]
    table = Table(title=f"DUIS 5.4 Service Request Variants ({len(rows)})")
    for column in ("SRV", "name", "critical", "non-device", "future-dated", "roles"):
        table.add_column(column)
    for s in rows:
        table.add_row(s.variant, s.name, _yes(s.critical), _yes(s.non_device),
                      s.future_dated_pattern or "-", " ".join(sorted(s.eligible_roles)))
    console.print(table)


@srv_app.command("show")
def srv_show(variant: Annotated[str, typer.Argument(help="Service Reference Variant, e.g. 4.1.1")]) -> None:
    """Show one Service Request Variant."""
    try:
        srv: ServiceRequestVariant = load_catalogue().get(variant)
    except DuisError as exc:
        raise _refused(exc) from None
    table = Table(show_header=False, title=f"SRV {srv.variant}: {srv.name}")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("Service Reference", srv.service_reference)
    table.add_row("critical", _yes(srv.critical))
    table.add_row("on demand", _yes(srv.on_demand))
    table.add_row("future-dated response", srv.future_dated_pattern or "not future-dateable")
    table.add_row("DCC scheduled", _yes(srv.dcc_scheduled))
    table.add_row("non-device", _yes(srv.non_device))
    table.add_row("Command Variants", ", ".join(str(v) for v in sorted(srv.command_variants)))
    table.add_row("eligible roles", " ".join(sorted(srv.eligible_roles)) or "(none)")
    console.print(table)
