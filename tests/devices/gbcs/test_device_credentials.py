"""Device credentials made on demand: keys derived from the estate secret, certificates found in
(or issued into) the SMKI repository when first needed, a bounded LRU of live ones."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from devices.gbcs.sites import T0, Keys, Site, make_site, payload_view, rtds
from opendcc.clock import SimulatedClock
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import layered
from opendcc.devices.gbcs.keys import DeviceCredentials, EstateKeyStore
from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import KeyStore, KeyUsage
from opendcc.smki.profile import CertificateKind
from opendcc.smki.repository import CertificateRepository

ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
SECRET = bytes(range(32))


def _world(live: int = 256) -> tuple[Authority, Estate, DeviceCredentials]:
    authority = Authority.open(CertificateRepository("sqlite://"), seed="0e" * 32)
    estate = Estate.demo(20, seed=3, clock=SimulatedClock(T0))
    return authority, estate, DeviceCredentials.open(authority, estate.hosts, secret=SECRET,
                                                     manufactured_at=T0, live=live)


def test_nothing_is_issued_or_kept_for_an_idle_estate() -> None:
    authority, _estate, creds = _world()
    assert creds.issued == 0 and creds.derived == 0
    assert authority.repository.search(kind=CertificateKind.DEVICE) == []


def test_first_use_issues_a_real_smki_device_certificate_into_the_repository() -> None:
    authority, _estate, creds = _world()
    cred = creds.credential(ESME, KeyUsage.DS)
    [published] = authority.repository.search(entity=ESME, kind=CertificateKind.DEVICE,
                                              usage=KeyUsage.DS)
    assert published.certificate.der == cred.certificate.public_bytes(Encoding.DER)
    assert published.private_key_pem is None  # the repository never holds a device's key
    checked = authority.validator().validate(published.certificate, at=T0, usage=KeyUsage.DS,
                                             expected_entity=ESME)
    assert checked.kind is CertificateKind.DEVICE
    # The certificate certifies the derived key: a signature by it verifies with the certificate.
    assert cred.private_key is not None
    signature = cred.private_key.sign(b"reading", ec.ECDSA(hashes.SHA256()))
    public = published.certificate.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"reading", ec.ECDSA(hashes.SHA256()))


def test_keys_are_derived_again_and_the_published_certificate_found_again() -> None:
    authority, estate, creds = _world()
    first = creds.credential(ESME, KeyUsage.KA)
    again = DeviceCredentials.open(authority, estate.hosts, manufactured_at=T0)  # secret stored
    second = again.credential(ESME, KeyUsage.KA)
    assert again.issued == 0
    assert second.certificate == first.certificate
    assert first.private_key is not None and second.private_key is not None
    assert first.private_key.private_numbers() == second.private_key.private_numbers()


def test_a_different_secret_for_the_same_repository_is_refused() -> None:
    authority, estate, _creds = _world()
    with pytest.raises(ValueError):
        DeviceCredentials.open(authority, estate.hosts, manufactured_at=T0, secret=bytes(32))


def test_the_secret_is_random_unless_given() -> None:
    one = Authority.open(CertificateRepository("sqlite://"), seed="0e" * 32)
    two = Authority.open(CertificateRepository("sqlite://"), seed="0e" * 32)
    hosts = Estate.demo(0, clock=SimulatedClock(T0)).hosts
    a = DeviceCredentials.open(one, hosts, manufactured_at=T0).private_key(ESME, KeyUsage.DS)
    b = DeviceCredentials.open(two, hosts, manufactured_at=T0).private_key(ESME, KeyUsage.DS)
    assert a.private_numbers() != b.private_numbers()


def test_only_a_bounded_number_of_credentials_stays_live() -> None:
    _authority, estate, creds = _world(live=8)
    for device_id in itertools.islice(estate.device_ids(), 12):
        creds.credential(EUI64.parse(device_id), KeyUsage.DS)
    assert len(creds._cache) == 8


def test_entities_the_estate_does_not_host_get_nothing() -> None:
    authority, _estate, creds = _world()
    assert creds.credentials(SUPPLIER) == []
    assert creds.issued == 0 and authority.repository.search(entity=SUPPLIER) == []


def test_a_revoked_certificate_is_replaced_by_a_new_one() -> None:
    authority, estate, creds = _world(live=1)
    old = creds.credential(ESME, KeyUsage.DS)
    authority.revoke(old.certificate.serial_number, at=T0)
    creds.credential(EUI64.parse(next(estate.device_ids())), KeyUsage.DS)  # push ESME out
    new = creds.credential(ESME, KeyUsage.DS)
    assert new.certificate.serial_number != old.certificate.serial_number
    assert creds.issued == 3


def test_a_device_answers_with_on_demand_keys_and_the_supplier_verifies_from_the_repository(
        reference: Path) -> None:
    authority = Authority.open(CertificateRepository("sqlite://"), seed="0e" * 32)
    rtds_keys = KeyStore.from_reference(reference)
    estate = Estate.demo(0, seed=1, clock=SimulatedClock(T0))
    device_side = EstateKeyStore(DeviceCredentials.open(authority, estate.hosts,
                                                        manufactured_at=T0), rtds_keys)
    # The ESME's opendcc certificate wins over its RTDS one.
    assert device_side.private_key(ESME, "ka") is not None
    supplier = layered(KeyStore.from_repository(authority.repository), rtds_keys)
    site: Site = make_site(Keys(device_side, supplier))
    [response] = site.endpoint.handle(site.command(rtds("ECS45_7.4_SUCCESS_COMMAND_GBCS.HEX")))
    assert payload_view(response, supplier)["access_response_list_of_data"][0]["value"] == 1
