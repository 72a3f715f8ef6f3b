"""The trust anchors a device holds: which remote parties' certificates it will act on.

GBCS §4.3.2 (Device Security Credentials) and SEC Appendix B: a SMETS2 device keeps, in its
trust anchor cells, the Root CA certificate and the certificates of the Recovery party, the
Supplier and the Network Operator (signing and key agreement), the Access Control Broker
(signing and key agreement), the WAN Provider and the Transitional Change of Supplier party. A
command is acted on only if it verifies under the anchor for the remote party that sent it.
Change of supplier (GBCS use case CS02b / SRV 6.23, via Transitional CoS) replaces the
supplier's anchors and nothing else.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from opendcc.ids import EUI64
from opendcc.smki.errors import RepositoryError
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import (
    CertificateKind,
    RemotePartyRole,
    SmkiCertificate,
    parse_certificate,
)
from opendcc.smki.repository import CertificateRepository


class AnchorSlot(NamedTuple):
    """One trust anchor cell: a remote-party role and the key usage it certifies (None: root)."""

    role: RemotePartyRole
    usage: KeyUsage | None

    @property
    def label(self) -> str:
        """`supplier/ds`, `root`."""
        return self.role.label if self.usage is None else f"{self.role.label}/{self.usage.value}"


R = RemotePartyRole
# GBCS §4.3.2: the anchor cells of a SMETS2 device.
ANCHOR_SLOTS: tuple[AnchorSlot, ...] = (
    AnchorSlot(R.ROOT, None),
    AnchorSlot(R.RECOVERY, KeyUsage.DS),
    AnchorSlot(R.SUPPLIER, KeyUsage.DS),
    AnchorSlot(R.SUPPLIER, KeyUsage.KA),
    AnchorSlot(R.NETWORK_OPERATOR, KeyUsage.DS),
    AnchorSlot(R.NETWORK_OPERATOR, KeyUsage.KA),
    AnchorSlot(R.ACCESS_CONTROL_BROKER, KeyUsage.DS),
    AnchorSlot(R.ACCESS_CONTROL_BROKER, KeyUsage.KA),
    AnchorSlot(R.WAN_PROVIDER, KeyUsage.DS),
    AnchorSlot(R.TRANSITIONAL_COS, KeyUsage.DS),
)

# The ZAZ1 test estate's DCC parties (DCC Boxed): the entities a device trusts by default.
ZAZ1_DCC_PARTIES: Mapping[RemotePartyRole, EUI64] = MappingProxyType({
    R.RECOVERY: EUI64.parse("90-B3-D5-1F-30-00-00-01"),
    R.ACCESS_CONTROL_BROKER: EUI64.parse("90-B3-D5-1F-30-00-00-02"),
    R.TRANSITIONAL_COS: EUI64.parse("90-B3-D5-1F-30-00-00-04"),
    R.WAN_PROVIDER: EUI64.parse("90-B3-D5-1F-30-00-00-07"),
})


class AnchorError(RepositoryError):
    """A certificate that cannot go in the anchor cell it was offered for."""


@dataclass(frozen=True)
class DeviceTrustAnchors:
    """The anchors one device holds (immutable: a replacement gives a new value)."""

    cells: Mapping[AnchorSlot, SmkiCertificate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for slot, cert in self.cells.items():
            _check_fits(slot, cert)
        object.__setattr__(self, "cells", MappingProxyType(dict(self.cells)))

    def __iter__(self) -> Iterator[tuple[AnchorSlot, SmkiCertificate]]:
        return iter(self.cells.items())

    def get(self, role: RemotePartyRole, usage: KeyUsage | str | None) -> SmkiCertificate | None:
        """The anchor certificate in one cell, if filled."""
        return self.cells.get(AnchorSlot(role, KeyUsage(usage) if usage else None))

    def party(self, role: RemotePartyRole) -> EUI64 | None:
        """The entity the device trusts in a role (the supplier, the network operator, ...)."""
        for slot, cert in self.cells.items():
            if slot.role == role:
                return cert.entity
        return None

    def anchor_for(self, sender: EUI64, usage: KeyUsage | str) -> SmkiCertificate | None:
        """The anchor a command from `sender` must verify under (None: the device refuses it)."""
        wanted = KeyUsage(usage)
        for slot, cert in self.cells.items():
            if slot.usage == wanted and cert.entity == sender:
                return cert
        return None

    def missing(self) -> list[AnchorSlot]:
        """Cells of GBCS §4.3.2 not yet filled."""
        return [slot for slot in ANCHOR_SLOTS if slot not in self.cells]

    def replace(self, *certificates: SmkiCertificate) -> DeviceTrustAnchors:
        """New anchors with each certificate put in the cell its role and usage name."""
        cells = dict(self.cells)
        for cert in certificates:
            cells[_slot_of(cert)] = cert
        return DeviceTrustAnchors(cells)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: cell label -> entity, serial and base64 DER."""
        return {slot.label: {"entity": str(cert.entity) if cert.entity else None,
                             "serial": cert.serial_hex,
                             "der": base64.b64encode(cert.der).decode()}
                for slot, cert in self.cells.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceTrustAnchors:
        """Read `to_dict()` output back."""
        by_label = {slot.label: slot for slot in ANCHOR_SLOTS}
        cells = {}
        for label, entry in data.items():
            if label not in by_label:
                raise AnchorError(f"unknown trust anchor cell {label!r}")
            cells[by_label[label]] = parse_certificate(base64.b64decode(entry["der"]))
        return cls(cells)


def _slot_of(cert: SmkiCertificate) -> AnchorSlot:
    if cert.kind == CertificateKind.CA:
        return AnchorSlot(R.ROOT, None)
    if cert.kind != CertificateKind.ORGANISATION or cert.role is None or cert.usage is None:
        raise AnchorError(f"certificate {cert.serial_hex} is not an organisation certificate"
                          " and cannot be a trust anchor")
    try:
        slot = AnchorSlot(RemotePartyRole(cert.role), cert.usage)
    except ValueError:
        raise AnchorError(f"certificate {cert.serial_hex}: role {cert.role} has no anchor cell") from None
    if slot not in ANCHOR_SLOTS:
        raise AnchorError(f"certificate {cert.serial_hex}: devices hold no {slot.label} anchor")
    return slot


def _check_fits(slot: AnchorSlot, cert: SmkiCertificate) -> None:
    if _slot_of(cert) != slot:
        raise AnchorError(f"certificate {cert.serial_hex} ({_slot_of(cert).label}) does not fit"
                          f" the {slot.label} anchor cell")


def replace_supplier_anchor(anchors: DeviceTrustAnchors, signing: SmkiCertificate,
                            key_agreement: SmkiCertificate | None = None) -> DeviceTrustAnchors:
    """Change of supplier (GBCS CS02b): the new supplier's certificates replace the old
    supplier's; every other anchor stays as it was."""
    offered = [signing] + ([key_agreement] if key_agreement is not None else [])
    for cert, usage in zip(offered, (KeyUsage.DS, KeyUsage.KA), strict=False):
        if cert.role != R.SUPPLIER or cert.usage != usage:
            raise AnchorError(f"certificate {cert.serial_hex} is not a supplier {usage.value}"
                              " certificate")
    if key_agreement is not None and key_agreement.entity != signing.entity:
        raise AnchorError("the supplier's signing and key agreement certificates name different"
                          " entities")
    return anchors.replace(*offered)


def provision_anchors(repository: CertificateRepository, *,
                      parties: Mapping[RemotePartyRole, EUI64],
                      root: SmkiCertificate | None = None) -> DeviceTrustAnchors:
    """The anchors of a newly installed device: for each party, its newest certificate in use
    (falling back to its newest certificate) for each cell of its role."""
    certs: list[SmkiCertificate] = [root] if root is not None else []
    for slot in ANCHOR_SLOTS:
        if slot.usage is None or slot.role not in parties:
            continue
        found = repository.search(entity=parties[slot.role], role=slot.role, usage=slot.usage,
                                  kind=CertificateKind.ORGANISATION)
        if not found:
            continue
        in_use = [s for s in found if s.revocation is None and s.superseded_by is None]
        best = max(in_use or found, key=lambda s: s.certificate.not_after)
        if best.revocation is not None:
            continue
        certs.append(best.certificate)
    return DeviceTrustAnchors().replace(*certs)


__all__ = ["ANCHOR_SLOTS", "ZAZ1_DCC_PARTIES", "AnchorError", "AnchorSlot",
           "DeviceTrustAnchors", "provision_anchors", "replace_supplier_anchor"]
