"""Helpers for the gateway tests: signed requests, and what the store holds."""

from __future__ import annotations

from lxml import etree

from opendcc.client.builder import build_request
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.xmldsig import sign
from opendcc.gateway.wiring import Services
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore
from opendcc.store import counters
from opendcc.store import outbox as outbox_repo

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")


def request_xml(srv_variant: str, body: dict[str, object] | etree._Element, *,
                originator: EUI64 = SUPPLIER, signer: EUI64 | None = None,
                target: EUI64 = DCC, counter: int = 1, command_variant: int | None = None,
                signed: bool = True) -> bytes:
    """A DUIS request signed with `signer`'s XML key (default: the originator's own)."""
    srv = load_catalogue().get(srv_variant)
    cv = command_variant or (8 if srv.non_device else 4 if srv.critical else 1)
    root = build_request(RequestID(originator, target, counter), srv, cv, body)
    if signed:
        cred = KeyStore.from_reference().xml_signing(signer or originator)
        assert cred is not None and cred.private_key is not None
        sign(root, cred.private_key, cred.certificate)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def last_counter(services: Services, user: EUI64) -> int | None:
    with services.store.connect() as conn:
        return counters.last_counter(conn, user)


def outbox_size(services: Services) -> int:
    with services.store.connect() as conn:
        return outbox_repo.pending_count(conn)
