"""The SMI Status table: which device SRVs the DCC sends to a device in each status."""

from __future__ import annotations

import pytest

from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.smi_status import (
    FIRMWARE,
    INSTALLATION,
    SERVICE_REQUESTS_BY_STATUS,
    admits,
    statuses_for,
)

S = DeviceStatus


def test_every_duis_device_status_has_a_row() -> None:
    assert set(SERVICE_REQUESTS_BY_STATUS) == set(DeviceStatus)


@pytest.mark.parametrize("status", [S.PENDING, S.RECOVERY, S.DECOMMISSIONED, S.WITHDRAWN])
@pytest.mark.parametrize("srv", ["1.1.1", "4.1.1", "8.1.1", "11.2", "6.23"])
def test_no_device_srv_reaches_a_device_out_of_the_estate_or_in_recovery(
    status: DeviceStatus, srv: str,
) -> None:
    assert not admits(status, srv)


@pytest.mark.parametrize("srv", ["4.1.1", "4.8.1", "4.17"])
def test_reads_work_after_and_only_after_commissioning(srv: str) -> None:
    assert statuses_for(srv) == {S.COMMISSIONED, S.RECOVERED}


def test_an_installed_meter_is_configured_before_it_is_commissioned() -> None:
    for srv in ("1.1.1", "6.15.1", "6.23", "8.1.1", "8.7.1", "3.4"):
        assert admits(S.INSTALLED_NOT_COMMISSIONED, srv)


def test_a_whitelisted_device_takes_only_installation_srvs() -> None:
    assert all(admits(S.WHITELISTED, v) for v in ("8.1.1", "8.7.1", "8.7.2", "8.8.1", "8.9"))
    assert not any(admits(S.WHITELISTED, v) for v in ("1.1.1", "4.1.1", "7.2", "6.23"))
    assert "8.1.1" in INSTALLATION


def test_a_suspended_device_takes_only_firmware_srvs() -> None:
    assert all(admits(S.SUSPENDED, v) for v in FIRMWARE)
    assert not any(admits(S.SUSPENDED, v) for v in ("1.1.1", "4.1.1", "8.1.1", "6.23", "7.1"))


def test_a_pattern_matches_whole_service_references_only() -> None:
    # "4" is Service Reference 4, not 4x: 11.2 is not a read because it contains "1"
    assert not admits(S.INSTALLED_NOT_COMMISSIONED, "4.1.1")
    assert admits(S.INSTALLED_NOT_COMMISSIONED, "11.4")
    assert not admits(S.SUSPENDED, "11.21")
