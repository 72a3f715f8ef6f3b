"""8.1.1 Commission Device on a GSME (GCS28, Set Clock on GSME) end to end: serviceT gives the
Pre-Command, the supplier correlates and signs it, serviceS sends it (CV 5); the GSME sets its
clock and answers, and the inventory moves it from InstalledNotCommissioned to Commissioned."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from test_device_srvs_support import TEMPLATES, Dcc, code_of, make_dcc, prepared

import dcctool
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.ids import EUI64
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.store import inventory as inventory_repo

pytestmark = pytest.mark.java

GSME = EUI64.parse("00-DB-12-34-56-78-90-A1")


@pytest.fixture
def dcc() -> Iterator[Dcc]:
    dcc = make_dcc()
    yield dcc
    dcc.services.close()


def _status(dcc: Dcc) -> DeviceStatus:
    with dcc.services.store.begin() as conn:
        device = inventory_repo.get_device(conn, GSME)
    assert device is not None
    return device.status


def test_gsme_commissioned_through_the_signed_pre_command(dcc: Dcc) -> None:
    with dcc.services.store.begin() as conn:  # installed and joined, not yet commissioned
        device = inventory_repo.get_device(conn, GSME)
        assert device is not None
        inventory_repo.put_device(conn, dataclasses.replace(
            device, status=DeviceStatus.INSTALLED_NOT_COMMISSIONED))
    template = next(t for t in TEMPLATES if t.name.startswith("GCS28Commission_8.1.1"))
    transform_request = dcc.sign(prepared(template, 2_000_000, dcc.clock.now()))
    sent = dcc.critical(transform_request, 2_000_001)
    assert code_of(dcc.post(sent, "serviceS")) == "I99"
    dcc.settle()
    rid = str(read_request(parse_xml(sent)).request_id)
    assert [code_of(a) for a in dcc.answers(rid)] == ["I0"]
    ok, diagnostics = dcctool.validate(dcc.delivered[rid][0])
    assert ok, diagnostics
    assert _status(dcc) is DeviceStatus.COMMISSIONED
