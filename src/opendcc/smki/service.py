"""The SMKI repository service over HTTP (DCC Boxed serves it on port 8083).

Two faces on one repository:
- a plain one: `GET /certificates` (search by serial, entity, device, usage, role),
  `GET /certificates/{serial}.pem|.der`, `GET /crl` (DER), `GET /crl.pem`, `GET /revocations`;
- the DCC Boxed one the published clients use (SEC Appendix M, SMKI Interface Design
  Specification): `POST /services/certificatesearch` with a `CertificateSearchRequest` and
  `POST /services/retrievecertificate` with a `CertificateDataRequest`, application/xml,
  answering 200 with results, 402 when nothing matches and 401 for invalid search
  parameters; and `GET /org-certs.zip` (also at `/assets/crypto/org-crypto.zip`), the
  organisation certificates and test keys as `<name>/cert/*.pem` and `<name>/key/*.key`.
"""

from __future__ import annotations

import base64
import io
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree

from opendcc.duis.parser import parse_xml
from opendcc.duis.response_codes import DuisError
from opendcc.ids import EUI64, InvalidIdentifier
from opendcc.smki.authority import Authority
from opendcc.smki.errors import RepositoryError
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import CertificateKind, RemotePartyRole
from opendcc.smki.repository import CertificateRepository, CertificateStatus, StoredCertificate

XML = "application/xml"
MAX_REQUEST_BYTES = 64_000
# Appendix M status codes of the DCC Boxed API (HTTP status carries the outcome).
NO_RESULT = 402
INVALID_PARAMETERS = 401
_USAGES = {"DS": KeyUsage.DS, "KA": KeyUsage.KA}


class SearchRejected(Exception):
    """A CertificateSearchRequest or CertificateDataRequest that cannot be answered as asked."""


def create_smki_app(repository: CertificateRepository | None = None, *,
                    authority: Authority | None = None,
                    now: Callable[[], datetime] | None = None) -> FastAPI:
    """The SMKI repository service for `repository` (default: the embedded one under the data
    directory); CRLs need its authority, opened on demand."""
    if repository is None:
        repository = authority.repository if authority is not None else CertificateRepository()
    clock = now or (lambda: datetime.now(UTC))
    app = FastAPI(title="opendcc SMKI repository", version="1")
    holder: dict[str, Authority] = {} if authority is None else {"a": authority}

    def the_authority() -> Authority:
        if "a" not in holder:
            holder["a"] = Authority.open(repository)
        return holder["a"]

    @app.get("/certificates")
    def search(serial: str | None = None, entity: str | None = None,
               device: str | None = None, usage: str | None = None,
               role: str | None = None) -> JSONResponse:
        """Search by serial (hex), organisation entity, device, usage (ds/ka), role."""
        try:
            found = repository.search(
                serial=serial,
                entity=EUI64.parse(entity or device or "") if (entity or device) else None,
                kind=CertificateKind.DEVICE if device else (
                    CertificateKind.ORGANISATION if entity else None),
                usage=KeyUsage(usage.lower()) if usage else None,
                role=RemotePartyRole.from_label(role) if role else None)
        except (InvalidIdentifier, RepositoryError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None
        at = clock()
        return JSONResponse([_summary(s, at) for s in found])

    @app.get("/certificates/{name}")
    def download(name: str) -> Response:
        """One certificate: `{serial}` (JSON summary), `{serial}.pem` or `{serial}.der`."""
        serial, _, fmt = name.partition(".")
        try:
            stored = repository.get(serial)
        except RepositoryError as exc:
            raise HTTPException(400, str(exc)) from None
        if stored is None:
            raise HTTPException(404, f"no certificate with serial {serial}")
        cert = stored.certificate
        if fmt == "pem":
            return Response(cert.pem(), media_type="application/x-pem-file")
        if fmt in ("der", "cer", "crt"):
            return Response(cert.der, media_type="application/pkix-cert")
        if fmt:
            raise HTTPException(400, f"unknown format {fmt!r}: use .pem or .der")
        return JSONResponse(_summary(stored, clock()))

    @app.get("/revocations")
    def revocations() -> JSONResponse:
        """The revocation list, every issuer."""
        return JSONResponse([{"issuer": r.issuer, "serial": r.serial_hex,
                              "revoked_at": r.revoked_at.isoformat(), "reason": r.reason}
                             for r in repository.revocations()])

    @app.get("/crl")
    def crl(ca: str = Query("organisation", pattern="^(organisation|device)$")) -> Response:
        """The X.509 CRL (DER) of opendcc's Organisation CA or Device CA."""
        pki = the_authority()
        issuer = pki.pki.organisation_ca if ca == "organisation" else pki.pki.device_ca
        return Response(pki.crl(issuer, at=clock()).public_bytes(Encoding.DER),
                        media_type="application/pkix-crl")

    @app.get("/crl.pem")
    def crl_pem(ca: str = Query("organisation", pattern="^(organisation|device)$")) -> Response:
        """The CRL in PEM."""
        pki = the_authority()
        issuer = pki.pki.organisation_ca if ca == "organisation" else pki.pki.device_ca
        return Response(pki.crl(issuer, at=clock()).public_bytes(Encoding.PEM),
                        media_type="application/x-pem-file")

    @app.post("/services/certificatesearch")
    async def certificate_search(request: Request) -> Response:
        """SEC Appendix M certificate search: by subject (organisation) or subject alt name
        (device), optionally narrowed by usage, status and role."""
        try:
            criteria = _read_request(await request.body(), "CertificateSearchRequest")
            results = _search(repository, criteria, clock())
        except SearchRejected as exc:
            return _xml_error(INVALID_PARAMETERS, str(exc))
        if not results:
            return _xml_error(NO_RESULT, "no certificate matches the search")
        body = "".join(f"<Result>{_fields(s, clock(), with_body=False)}</Result>" for s in results)
        return _xml_ok("CertificateSearchResponse", body)

    @app.post("/services/retrievecertificate")
    async def retrieve_certificate(request: Request) -> Response:
        """SEC Appendix M certificate retrieval by serial (hex)."""
        try:
            criteria = _read_request(await request.body(), "CertificateDataRequest")
            serial = criteria.get("CertificateSerial")
            if not serial:
                raise SearchRejected("CertificateDataRequest needs a CertificateSerial")
            stored = repository.get(serial)
        except (SearchRejected, RepositoryError) as exc:
            return _xml_error(INVALID_PARAMETERS, str(exc))
        if stored is None:
            return _xml_error(NO_RESULT, f"no certificate with serial {serial}")
        body = f"<CertificateResponse>{_fields(stored, clock(), with_body=True)}</CertificateResponse>"
        return _xml_ok("CertificateDataResponse", body)

    def org_certs_zip() -> Response:
        """Every organisation certificate, and the test private keys the repository holds."""
        return Response(build_org_certs_zip(repository), media_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="org-certs.zip"'})

    app.add_api_route("/org-certs.zip", org_certs_zip, methods=["GET", "HEAD"])
    app.add_api_route("/assets/crypto/org-crypto.zip", org_certs_zip, methods=["GET", "HEAD"])
    return app


def _summary(stored: StoredCertificate, at: datetime) -> dict[str, Any]:
    cert = stored.certificate
    return {
        "serial": cert.serial_hex, "serial_decimal": str(cert.serial), "issuer": cert.issuer_text,
        "kind": cert.kind.value, "entity": str(cert.entity) if cert.entity else None,
        "role": cert.role, "role_name": cert.role_name,
        "usage": cert.usage.value if cert.usage else None, "name": stored.name,
        "status": stored.status(at).value, "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(), "source": stored.source,
    }


def _read_request(body: bytes, root_name: str) -> dict[str, str]:
    """The child elements of a flat Appendix M request, by local name."""
    try:
        root = parse_xml(body, max_bytes=MAX_REQUEST_BYTES)
    except DuisError as exc:
        raise SearchRejected(f"request is not acceptable XML: {exc}") from None
    local = etree.QName(root).localname
    if local != root_name:
        raise SearchRejected(f"expected {root_name}, got {local}")
    return {etree.QName(child).localname: (child.text or "").strip() for child in root
            if isinstance(child.tag, str)}


def _search(repository: CertificateRepository, criteria: dict[str, str],
            at: datetime) -> list[StoredCertificate]:
    subject, alt = criteria.get("CertificateSubjectName"), criteria.get("CertificateSubjectAltName")
    serial = criteria.get("CertificateSerial")
    if not (subject or alt or serial):
        raise SearchRejected("give CertificateSubjectName, CertificateSubjectAltName or"
                             " CertificateSerial")
    try:
        entity = EUI64.parse(subject or alt or "") if (subject or alt) else None
        usage = criteria.get("CertificateUsage")
        if usage and usage.upper() not in _USAGES:
            raise SearchRejected(f"CertificateUsage must be DS or KA, not {usage!r}")
        role_text = criteria.get("CertificateRole")
        role = int(role_text) if role_text else None
        status = CertificateStatus(criteria["CertificateStatus"].upper()) \
            if criteria.get("CertificateStatus") else None
        found = repository.search(
            serial=serial, entity=entity,
            kind=CertificateKind.ORGANISATION if subject else (
                CertificateKind.DEVICE if alt else None),
            usage=_USAGES[usage.upper()] if usage else None, role=role)
    except (InvalidIdentifier, RepositoryError, ValueError) as exc:
        raise SearchRejected(str(exc)) from None
    if status is not None:
        found = [s for s in found if s.status(at) == status]
    return found


def _fields(stored: StoredCertificate, at: datetime, *, with_body: bool) -> str:
    cert = stored.certificate
    name = str(cert.entity) if cert.entity else ""
    parts = []
    if cert.kind == CertificateKind.DEVICE:
        parts.append(f"<CertificateSubjectAltName>{name}</CertificateSubjectAltName>")
    else:
        parts.append(f"<CertificateSubjectName>{name}</CertificateSubjectName>")
    parts.append(f"<CertificateSerial>{cert.serial_hex}</CertificateSerial>")
    parts.append(f"<CertificateStatus>{stored.status(at).value}</CertificateStatus>")
    if with_body:
        parts.append(f"<CertificateBody>{_base64_lines(cert.der)}</CertificateBody>")
    if cert.kind != CertificateKind.DEVICE and cert.role is not None:
        parts.append(f"<CertificateRole>{cert.role}</CertificateRole>")
    if cert.usage is not None:
        parts.append(f"<CertificateUsage>{cert.usage.value.upper()}</CertificateUsage>")
    parts.append("<ManufacturingFlag>false</ManufacturingFlag>")
    return "".join(parts)


def _base64_lines(der: bytes) -> str:
    text = base64.b64encode(der).decode()
    return "\n".join(text[i : i + 64] for i in range(0, len(text), 64))


def _envelope(root: str, code: int, message: str, body: str) -> str:
    audit = uuid.uuid4().hex[:20]
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f"<{root}><ResponseCode>{code}</ResponseCode>"
            f"<ResponseMessage>{escape(message)}</ResponseMessage>"
            f"<AuditReference>{audit}</AuditReference>{body}</{root}>")


def _xml_ok(root: str, body: str) -> Response:
    return Response(_envelope(root, 200, "Success", body), media_type=XML)


def _xml_error(status: int, message: str) -> Response:
    return Response(_envelope("ErrorResponse", status, message, ""), status_code=status,
                    media_type=XML)


def build_org_certs_zip(repository: CertificateRepository) -> bytes:
    """The DCC Boxed `org-certs.zip` layout: `org-certs/cert/<name>.pem` and, where the
    repository holds the (test) private key, `org-certs/key/<name>.key`."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for stored in repository.search(kind=CertificateKind.ORGANISATION):
            cert = stored.certificate
            base = stored.name or f"{cert.entity.lower if cert.entity else ''}-{cert.serial_hex}"
            name = base if base not in used else f"{base}-{cert.serial_hex}"
            used.add(name)
            archive.writestr(f"org-certs/cert/{name}.pem", cert.pem())
            if stored.private_key_pem is not None:
                archive.writestr(f"org-certs/key/{name}.key", stored.private_key_pem)
    return buffer.getvalue()
