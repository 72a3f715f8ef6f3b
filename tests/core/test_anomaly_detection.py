"""Threshold Anomaly Detection: per-user, per-SRV volume thresholds, and quarantine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from core_requests import (
    ESME,
    NETWORK_OPERATOR,
    OTHER_USER,
    SUPPLIER,
    read_inventory,
    request_from,
    template,
)

from opendcc.clock import SimulatedClock
from opendcc.core.anomaly_detection import AnomalyDetector, Threshold, Thresholds
from opendcc.core.service import DataService
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.request import DuisRequest
from opendcc.duis.response_codes import RequestQuarantined, RoleNotEligible
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.store import audit, outbox
from opendcc.store.counters import last_counter
from opendcc.store.engine import Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ALICE = EUI64.parse(SUPPLIER)
BOB = EUI64.parse(NETWORK_OPERATOR)


def _detector(thresholds: Thresholds) -> tuple[AnomalyDetector, SimulatedClock]:
    clock = SimulatedClock(NOW)
    return AnomalyDetector(thresholds, clock), clock


def test_requests_under_the_threshold_pass() -> None:
    detector, _ = _detector(Thresholds(default=Threshold(3, HOUR)))
    for _ in range(3):
        detector.check(ALICE, "8.2")
    assert detector.count(ALICE, "8.2") == 3


def test_the_request_that_would_exceed_the_threshold_is_quarantined() -> None:
    detector, _ = _detector(Thresholds(default=Threshold(2, HOUR)))
    detector.check(ALICE, "8.2")
    detector.check(ALICE, "8.2")
    with pytest.raises(RequestQuarantined, match="threshold is 2") as caught:
        detector.check(ALICE, "8.2")
    assert caught.value.code is None and caught.value.http_status == 429
    assert detector.count(ALICE, "8.2") == 2  # the quarantined one is not counted


def test_the_window_slides_with_the_clock() -> None:
    detector, clock = _detector(Thresholds(default=Threshold(2, HOUR)))
    detector.check(ALICE, "8.2")
    clock.advance(30 * 60)
    detector.check(ALICE, "8.2")
    with pytest.raises(RequestQuarantined):
        detector.check(ALICE, "8.2")
    clock.advance(30 * 60)  # the first request leaves the window exactly one period later
    detector.check(ALICE, "8.2")
    with pytest.raises(RequestQuarantined):
        detector.check(ALICE, "8.2")
    clock.advance(60 * 60)
    detector.check(ALICE, "8.2")
    detector.check(ALICE, "8.2")


def test_users_and_srvs_are_counted_independently() -> None:
    detector, _ = _detector(Thresholds(default=Threshold(1, HOUR)))
    detector.check(ALICE, "8.2")
    detector.check(BOB, "8.2")
    detector.check(ALICE, "4.1.1")
    with pytest.raises(RequestQuarantined):
        detector.check(ALICE, "8.2")
    with pytest.raises(RequestQuarantined):
        detector.check(BOB, "8.2")


def test_the_users_own_threshold_overrides_the_dccs() -> None:
    detector, _ = _detector(Thresholds(
        default=Threshold(1, HOUR),
        by_srv={"8.2": Threshold(2, HOUR)},
        by_user_srv={(ALICE, "8.2"): Threshold(3, HOUR)},
    ))
    for _ in range(3):
        detector.check(ALICE, "8.2")
    for _ in range(2):
        detector.check(BOB, "8.2")
    with pytest.raises(RequestQuarantined):
        detector.check(BOB, "8.2")
    detector.check(BOB, "4.1.1")
    with pytest.raises(RequestQuarantined):
        detector.check(BOB, "4.1.1")


def test_without_thresholds_nothing_is_counted_or_quarantined() -> None:
    detector, _ = _detector(Thresholds())
    for _ in range(1000):
        detector.check(ALICE, "8.2")
    assert detector.count(ALICE, "8.2") == 0


@pytest.mark.parametrize("limit, period", [(0, HOUR), (1, timedelta(0))])
def test_a_threshold_must_allow_something(limit: int, period: timedelta) -> None:
    with pytest.raises(ValueError):
        Threshold(limit, period)


# --- in the Data Service: after access control, before the answer ------------------------------

@pytest.fixture
def service(memory_store: Store) -> DataService:
    seed_demo(memory_store)
    clock = SimulatedClock(NOW)
    detector = AnomalyDetector(Thresholds(default=Threshold(1, timedelta(days=1))), clock)
    return DataService(memory_store, load_catalogue(), clock, anomaly=detector)


def _handle(service: DataService, request: DuisRequest) -> str:
    endpoint = CommandVariant(request.command_variant).endpoint
    return service.handle(request, request.request_id.originator, endpoint).code


def _inventory(counter: int, originator: str = SUPPLIER) -> DuisRequest:
    return read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", originator=originator,
                          counter=counter)


def test_a_quarantined_request_changes_nothing_but_the_audit(service: DataService) -> None:
    assert _handle(service, _inventory(1)) == "I0"
    with pytest.raises(RequestQuarantined):
        _handle(service, _inventory(2))
    with service.store.begin() as conn:
        assert last_counter(conn, ALICE) == 1  # counter 2 may be used again
        assert outbox.due(conn, NOW + timedelta(days=30), 10) == []
        records = audit.recent(conn)
    assert [r.response_code for r in records] == ["HTTP 429", "I0"]
    assert records[0].detail and "RequestQuarantined" in records[0].detail


def test_a_device_request_over_the_threshold_is_quarantined(service: DataService) -> None:
    first = request_from(template("ECS17b_4.1.1_SINGLE"), request_id=f"{SUPPLIER}:{ESME}:10")
    second = request_from(template("ECS17b_4.1.1_SINGLE"), request_id=f"{SUPPLIER}:{ESME}:11")
    assert _handle(service, first) == "I99"
    with pytest.raises(RequestQuarantined):
        _handle(service, second)
    with service.store.begin() as conn:
        assert last_counter(conn, ALICE) == 10


def test_a_request_refused_by_access_control_is_not_counted(service: DataService) -> None:
    # OTHER_USER may read inventory but not send 4.1.1: E2 comes first, and uses up nothing.
    refused = request_from(template("ECS17b_4.1.1_SINGLE"), request_id=f"{OTHER_USER}:{ESME}:1")
    with pytest.raises(RoleNotEligible):
        _handle(service, refused)
    assert service.anomaly.count(EUI64.parse(OTHER_USER), "4.1.1") == 0
