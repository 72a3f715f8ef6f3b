"""Any bytes given as a certificate get a clear answer: a parsed certificate or
MalformedCertificate, never another exception."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from opendcc.config import reference_dir
from opendcc.smki.errors import CertificateRejected, MalformedCertificate
from opendcc.smki.profile import parse_certificate, pem_or_der
from opendcc.smki.validation import TrustStore, Validator

SEEDS = [pem_or_der(p.read_bytes()) for p in sorted((reference_dir() / "keys").glob("*.pem"))
         if b"BEGIN CERTIFICATE" in p.read_bytes()][:6]
VALIDATOR = Validator(TrustStore.from_reference(reference_dir()))
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_are_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedCertificate):
        parse_certificate(data)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SEEDS), st.integers(min_value=0, max_value=10_000),
       st.integers(min_value=1, max_value=255))
def test_corrupted_certificates_are_refused_cleanly(der: bytes, where: int, flip: int) -> None:
    data = bytearray(der)
    data[where % len(data)] ^= flip
    with contextlib.suppress(CertificateRejected):
        VALIDATOR.validate(bytes(data), at=NOW, usage="ds")
