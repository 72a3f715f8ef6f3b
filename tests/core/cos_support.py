"""Change of supplier through the Transitional CoS party in GBCS, for the core tests."""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

from cryptography import x509
from lxml import etree

from opendcc.config import reference_dir
from opendcc.core.device_layer import DeviceSide
from opendcc.core.transitional_cos import Deliver, TransitionalCoS
from opendcc.ids import EUI64


@cache
def zaz1_path() -> tuple[x509.Certificate, ...]:
    """The certification path of the ZAZ1 suppliers' certificates (the Z1 issuing CA, as the
    RTDS 6.23 template gives it; SMKI publishes no CA certificates of the ZAZ1 test PKI)."""
    template = reference_dir() / "duis" / "templates" / \
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
    texts = etree.parse(str(template)).findall(".//{*}CertificationPathCertificates/{*}Certificate")
    return tuple(x509.load_der_x509_certificate(base64.b64decode("".join((t.text or "").split())))
                 for t in texts)


def path_of(_supplier: EUI64) -> list[Any]:
    """Every ZAZ1 supplier's path."""
    return list(zaz1_path())


def tcos(side: DeviceSide, deliver: Deliver | None = None) -> TransitionalCoS:
    """The DCC's Transitional CoS party over the side's SM WAN to its emulated estate."""
    return TransitionalCoS.over(side.router.endpoint, side.keys, side.layer.counter, path_of,
                                deliver=deliver)
