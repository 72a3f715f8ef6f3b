"""`opendcc serve` over HTTPS with mutual TLS: the SDK connects with a client certificate; a
client without one is refused at the TLS handshake."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from e2e_support import ESME, SUPPLIER, Server

from opendcc.client import DccClient
from opendcc.client.counter import Counter

pytestmark = [pytest.mark.slow]


def _issue(path: Path, name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
           | None, *, ca: bool = False, server: bool = False) -> tuple[x509.Certificate,
                                                                        ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer[0].subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (path / f"{name}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert, key


def user_tls(pki: Path) -> ssl.SSLContext:
    """The user's side: trust the test CA, present the user's certificate."""
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    context.load_cert_chain(str(pki / "user.pem"), str(pki / "user.key"))
    return context


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp_path = tmp_path_factory.mktemp("tls")
    pki = tmp_path / "pki"
    pki.mkdir()
    ca = _issue(pki, "ca", None, ca=True)
    _issue(pki, "server", ca, server=True)
    _issue(pki, "user", ca)
    client = httpx.Client(timeout=1, verify=user_tls(pki))
    server = Server(tmp_path, "--tls-cert", str(pki / "server.pem"), "--tls-key",
                    str(pki / "server.key"), "--tls-client-ca", str(pki / "ca.pem"),
                    scheme="https", client=client)
    server.start()
    yield server, pki
    server.stop()


def test_the_sdk_talks_duis_over_mutual_tls(tls_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, pki = tls_server
    http = httpx.Client(verify=user_tls(pki))
    with DccClient.from_reference(SUPPLIER, server.url, http=http,
                                  counter=Counter(tmp_path / "c")) as sdk:
        response = sdk.request("8.2", {"ReadInventory": {"DeviceID": ESME.hyphenated}})
    assert response.response_code == "I0"


def test_a_client_without_a_certificate_is_refused(tls_server: tuple[Server, Path]) -> None:
    server, pki = tls_server
    anonymous = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{server.url}/health", verify=anonymous)
