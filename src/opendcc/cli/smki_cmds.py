"""CLI commands: `opendcc smki issue|renew|revoke|show|export|import-reference`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from rich.console import Console
from rich.table import Table

from opendcc.ids import EUI64, InvalidIdentifier
from opendcc.smki.authority import Authority, IssuedCredential
from opendcc.smki.errors import CertificateRejected, RepositoryError
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import RemotePartyRole, SmkiCertificate, parse_certificate
from opendcc.smki.repository import CertificateRepository, StoredCertificate

smki_app = typer.Typer(name="smki", help="SMKI: issue, renew, revoke, show and export certificates.",
                       no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

RepositoryOption = Annotated[str | None, typer.Option(
    "--repository", "-r", envvar="OPENDCC_SMKI_REPOSITORY",
    help="SQLite file or database URL of the SMKI repository (default: smki.sqlite3 under the"
         " data directory).")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(smki_app, name="smki")


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _repository(location: str | None) -> CertificateRepository:
    try:
        return CertificateRepository(location)
    except Exception as exc:  # the database could not be opened: say which and why
        raise _fail(f"cannot open SMKI repository {location or '(default)'}: {exc}") from None


def _usages(text: str) -> list[KeyUsage]:
    if text.lower() == "both":
        return [KeyUsage.DS, KeyUsage.KA]
    try:
        return [KeyUsage(text.lower())]
    except ValueError:
        raise _fail(f"--usage must be ds, ka or both, not {text!r}") from None


def _show(cert: SmkiCertificate, stored: StoredCertificate | None = None) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("serial", f"{cert.serial_hex} ({cert.serial})")
    table.add_row("kind", cert.kind.value)
    table.add_row("entity", str(cert.entity) if cert.entity else "-")
    if cert.role is not None:
        table.add_row("role", f"{cert.role_name} ({cert.role})")
    table.add_row("usage", cert.usage.value if cert.usage else "-")
    if cert.common_name:
        table.add_row("name", cert.common_name)
    table.add_row("issuer", cert.issuer_text)
    table.add_row("valid", f"{cert.not_before:%Y-%m-%d %H:%M:%S}Z to {cert.not_after:%Y-%m-%d %H:%M:%S}Z")
    table.add_row("policies", ", ".join(cert.policies) or "-")
    for deviation in cert.deviations:
        table.add_row("[yellow]deviation[/]", deviation)
    if stored is not None:
        table.add_row("status", stored.status(datetime.now(UTC)).name.lower().replace("_", " "))
        if stored.revocation:
            table.add_row("revoked", f"{stored.revocation.revoked_at:%Y-%m-%d %H:%M:%S}Z"
                                     f" ({stored.revocation.reason})")
        table.add_row("source", stored.source)
    console.print(table)


def _write(issued: IssuedCredential, out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    cert_path = out / f"{stem}.pem"
    cert_path.write_text(issued.certificate.pem())
    written = [cert_path]
    if issued.private_key is not None:
        key_path = out / f"{stem}.key"
        key_path.write_bytes(issued.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        key_path.chmod(0o600)
        written.append(key_path)
    return written


@smki_app.command()
def issue(
    entity: Annotated[str, typer.Option(help="EUI-64 of the organisation (or device with --device).")],
    role: Annotated[str | None, typer.Option(
        help="Organisation role: supplier, network-operator, other-user, access-control-broker,"
             " transitional-cos, wan-provider, recovery, xml-sign, dsp-xml-sign, ...")] = None,
    usage: Annotated[str, typer.Option(help="ds, ka or both.")] = "both",
    name: Annotated[str | None, typer.Option(help="Common name for an organisation certificate.")] = None,
    device: Annotated[bool, typer.Option("--device", help="Issue device certificates at manufacture.")] = False,
    days: Annotated[int, typer.Option(help="Validity of an organisation certificate.")] = 3650,
    out: Annotated[Path, typer.Option(help="Folder for the new .pem and .key files.")] = Path("."),
    keep_key: Annotated[bool, typer.Option(
        "--keep-key", help="Also keep the private key in the repository (for parties opendcc plays).")] = False,
    repository: RepositoryOption = None,
) -> None:
    """Issue organisation or device certificates with new key pairs, publish them, write the files."""
    try:
        eui = EUI64.parse(entity)
    except InvalidIdentifier as exc:
        raise _fail(str(exc)) from None
    if device == (role is not None):
        raise _fail("give --role for an organisation certificate, or --device (and no role)")
    try:
        the_role = RemotePartyRole.from_label(role) if role else None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if days <= 0:
        raise _fail("--days must be positive")
    authority = Authority.open(_repository(repository))
    now = datetime.now(UTC)
    for key_usage in _usages(usage):
        try:
            if the_role is None:
                issued = authority.issue_device(eui, key_usage, at=now, keep_private_key=keep_key)
                stem = f"{eui.lower}-{key_usage.value}"
            else:
                issued = authority.issue_organisation(
                    eui, the_role, key_usage, at=now, common_name=name,
                    validity=timedelta(days=days), keep_private_key=keep_key)
                stem = f"{eui.lower}-{the_role.label}-{key_usage.value}"
        except RepositoryError as exc:
            raise _fail(str(exc)) from None
        files = _write(issued, out, stem)
        console.print(f"[green]issued[/] {key_usage.value} certificate "
                      f"[bold]{issued.certificate.serial_hex}[/] -> "
                      + ", ".join(str(f) for f in files))
        _show(issued.certificate)


@smki_app.command()
def renew(serial: Annotated[str, typer.Argument(help="Serial (hex) of the certificate to replace.")],
          out: Annotated[Path, typer.Option(help="Folder for the new .pem and .key.")] = Path("."),
          repository: RepositoryOption = None) -> None:
    """Replace an organisation certificate with a new key pair; the old one becomes not in use."""
    authority = Authority.open(_repository(repository))
    try:
        issued = authority.renew(serial, at=datetime.now(UTC))
    except RepositoryError as exc:
        raise _fail(str(exc)) from None
    cert = issued.certificate
    files = _write(issued, out, f"{cert.entity.lower if cert.entity else ''}-{cert.serial_hex}")
    console.print(f"[green]renewed[/] {serial} as [bold]{cert.serial_hex}[/] -> "
                  + ", ".join(str(f) for f in files))


@smki_app.command()
def revoke(serial: Annotated[str, typer.Argument(help="Serial (hex) of the certificate.")],
           reason: Annotated[str, typer.Option(help="Why it is revoked.")] = "unspecified",
           repository: RepositoryOption = None) -> None:
    """Revoke a published certificate: every process refuses it from its next check."""
    repo = _repository(repository)
    try:
        entry = repo.revoke(serial, at=datetime.now(UTC), reason=reason)
    except RepositoryError as exc:
        raise _fail(str(exc)) from None
    console.print(f"[red]revoked[/] {entry.serial_hex} (issuer {entry.issuer}) at "
                  f"{entry.revoked_at:%Y-%m-%d %H:%M:%S}Z: {entry.reason}")


@smki_app.command()
def show(what: Annotated[str, typer.Argument(help="A certificate file (PEM/DER) or a serial (hex).")],
         repository: RepositoryOption = None) -> None:
    """Show a certificate from a file or from the repository, and check it if it is published."""
    path = Path(what)
    if path.is_file():
        try:
            cert = parse_certificate(path.read_bytes())
        except CertificateRejected as exc:
            raise _fail(f"{path}: {exc}") from None
        repo = _repository(repository)
        _show(cert, repo.get(cert.serial, issuer=cert.issuer_text))
        return
    repo = _repository(repository)
    try:
        stored = repo.get(what)
    except RepositoryError as exc:
        raise _fail(f"{what!r} is neither a file nor a serial: {exc}") from None
    if stored is None:
        raise _fail(f"no certificate with serial {what} in {repo.url}", code=1)
    _show(stored.certificate, stored)


@smki_app.command()
def export(serial: Annotated[str, typer.Argument(help="Serial (hex) of the certificate.")],
           format: Annotated[str, typer.Option("--format", "-f", help="pem or der.")] = "pem",
           out: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
           repository: RepositoryOption = None) -> None:
    """Write a published certificate as PEM or DER."""
    if format not in ("pem", "der"):
        raise _fail(f"--format must be pem or der, not {format!r}")
    repo = _repository(repository)
    try:
        stored = repo.get(serial)
    except RepositoryError as exc:
        raise _fail(str(exc)) from None
    if stored is None:
        raise _fail(f"no certificate with serial {serial} in {repo.url}", code=1)
    data = stored.certificate.pem().encode() if format == "pem" else stored.certificate.der
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
        console.print(f"wrote {out}")


@smki_app.command("import-reference")
def import_reference(repository: RepositoryOption = None) -> None:
    """Publish the ZAZ1 test certificates of the reference artefacts (import mode)."""
    repo = _repository(repository)
    count = repo.import_reference()
    console.print(f"{count} reference certificates published in {repo.url}")
