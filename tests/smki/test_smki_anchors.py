"""Device trust anchors: provisioned from the repository, replaced on change of supplier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.smki.anchors import (
    ANCHOR_SLOTS,
    ZAZ1_DCC_PARTIES,
    AnchorError,
    AnchorSlot,
    DeviceTrustAnchors,
    provision_anchors,
    replace_supplier_anchor,
)
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import RemotePartyRole as R

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD_SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
NEW_SUPPLIER = EUI64.parse("90-B3-D5-1F-30-0A-00-01")


@pytest.fixture
def anchors(authority: Authority) -> DeviceTrustAnchors:
    authority.repository.import_reference(reference_dir())
    parties = {**ZAZ1_DCC_PARTIES, R.SUPPLIER: OLD_SUPPLIER, R.NETWORK_OPERATOR: NETWORK_OPERATOR}
    return provision_anchors(authority.repository, parties=parties,
                             root=authority.pki.root.certificate)


def test_a_device_is_provisioned_with_every_anchor_cell(anchors: DeviceTrustAnchors) -> None:
    assert anchors.missing() == []
    assert anchors.party(R.SUPPLIER) == OLD_SUPPLIER
    assert anchors.party(R.ACCESS_CONTROL_BROKER) == ZAZ1_DCC_PARTIES[R.ACCESS_CONTROL_BROKER]
    assert len(list(anchors)) == len(ANCHOR_SLOTS)


def test_change_of_supplier_replaces_only_the_supplier_anchors(
        anchors: DeviceTrustAnchors, authority: Authority) -> None:
    ds = authority.issue_organisation(NEW_SUPPLIER, R.SUPPLIER, "ds", at=NOW).certificate
    ka = authority.issue_organisation(NEW_SUPPLIER, R.SUPPLIER, "ka", at=NOW).certificate
    after = replace_supplier_anchor(anchors, ds, ka)
    assert after.party(R.SUPPLIER) == NEW_SUPPLIER
    assert after.anchor_for(NEW_SUPPLIER, "ds") == ds
    assert after.anchor_for(OLD_SUPPLIER, "ds") is None
    changed = {slot for slot, cert in after if anchors.cells.get(slot) != cert}
    assert changed == {AnchorSlot(R.SUPPLIER, KeyUsage.DS), AnchorSlot(R.SUPPLIER, KeyUsage.KA)}
    assert anchors.party(R.SUPPLIER) == OLD_SUPPLIER  # the old value is unchanged


def test_only_supplier_certificates_replace_the_supplier_anchor(
        anchors: DeviceTrustAnchors, authority: Authority) -> None:
    dno = authority.issue_organisation(NEW_SUPPLIER, R.NETWORK_OPERATOR, "ds", at=NOW).certificate
    with pytest.raises(AnchorError, match="not a supplier ds certificate"):
        replace_supplier_anchor(anchors, dno)
    device = authority.issue_device(EUI64.parse("00-DB-12-34-56-78-90-A4"), "ds", at=NOW).certificate
    with pytest.raises(AnchorError, match="cannot be a trust anchor"):
        anchors.replace(device)


def test_anchors_round_trip_as_data(anchors: DeviceTrustAnchors) -> None:
    assert DeviceTrustAnchors.from_dict(anchors.to_dict()) == anchors
