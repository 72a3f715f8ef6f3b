"""The two simulated providers as separate processes, through their adapters, with faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opendcc.smets1.adapters import connect
from opendcc.smets1.adapters.base import (
    ConnectionDropped,
    MeterInfo,
    ProviderAdapter,
    ProviderUnavailable,
    Result,
)
from opendcc.smets1.models import models_of
from opendcc.smets1.providers import beta_wire as wire
from opendcc.smets1.providers.estate import Estate, Op

from .support import provider_process

DCC = "90B3D51F30000002"
SIZE = 200


@pytest.fixture(scope="module", params=["alpha", "beta"])
def provider(request: pytest.FixtureRequest) -> Iterator[tuple[str, ProviderAdapter, Estate]]:
    name = request.param
    with provider_process(name, SIZE, 5) as address:
        adapter = connect(name, address)
        yield name, adapter, Estate.generate(name, SIZE, 5)
        adapter.close()


def test_query_reports_the_estate_the_seed_makes(provider):
    _, adapter, estate = provider
    ids = list(estate.meters)
    found = adapter.query([*ids, "00FFFFFFFFFFFFFF"])
    assert found["00FFFFFFFFFFFFFF"] is Result.UNKNOWN_DEVICE
    for d in ids:
        info = found[d]
        assert isinstance(info, MeterInfo)
        assert (info.model, info.firmware, info.mpxn, info.owner) == (
            estate.meters[d].model, estate.meters[d].firmware, estate.meters[d].mpxn, estate.meters[d].owner)


def test_credentials_swap_is_compare_and_set_and_restorable(provider):
    _, adapter, estate = provider
    d, meter = next(iter(estate.meters.items()))
    wrong = adapter.replace_credentials(DCC, [(d, "0000000000000000")])
    assert wrong[d].result is Result.CREDENTIAL_MISMATCH
    assert adapter.replace_credentials(DCC, [(d, meter.owner)])[d].result is Result.OK
    assert adapter.commands(meter.owner, [(d, Op.READ_IMPORT, 0)])[d].result is Result.NOT_AUTHORISED
    assert adapter.commands(DCC, [(d, Op.READ_IMPORT, 0)])[d].result is Result.OK
    assert adapter.restore_credentials(DCC, [(d, meter.owner)])[d].result is Result.OK
    info = adapter.query([d])[d]
    assert isinstance(info, MeterInfo) and info.owner == meter.owner


def test_models_refuse_the_srvs_they_do_not_support(provider):
    name, adapter, estate = provider
    limited = next(m for m in models_of(name) if not m.supports("7.1") or not m.supports("1.1.1"))
    d, meter = next((d, m) for d, m in estate.meters.items() if m.model == limited.name)
    adapter.replace_credentials(DCC, [(d, meter.owner)])
    op = Op.SUPPLY_ENABLE if not limited.supports("7.1") else Op.SET_TARIFF
    assert adapter.commands(DCC, [(d, op, 1)])[d].result is Result.UNSUPPORTED
    adapter.restore_credentials(DCC, [(d, meter.owner)])


def test_outage_garbage_and_dropped_connections(provider):
    _, adapter, estate = provider
    ids = list(estate.meters)[100:140]
    adapter.set_faults({"outage": True})
    with pytest.raises(ProviderUnavailable):
        adapter.query(ids)
    adapter.set_faults({"outage": False, "garbage_rate": 1.0})
    answers = adapter.commands(DCC, [(d, Op.READ_IMPORT, 0) for d in ids])
    assert {a.result for a in answers.values()} == {Result.GARBAGE}
    adapter.set_faults({"garbage_rate": 0.0, "drop_rate": 1.0})
    with pytest.raises(ConnectionDropped):
        adapter.replace_credentials(DCC, [(d, estate.meters[d].owner) for d in ids])
    adapter.set_faults({"drop_rate": 0.0})
    owners = {d: i.owner for d, i in adapter.query(ids).items() if isinstance(i, MeterInfo)}
    assert sum(o == DCC for o in owners.values()) == len(ids) // 2  # half the work was done
    adapter.restore_credentials(DCC, [(d, estate.meters[d].owner) for d in ids])


@pytest.mark.parametrize("cut", [1, 5, 9, 12])
def test_a_truncated_beta_frame_is_a_frame_error(cut):
    payload = wire.encode_query_answer([wire.MeterRecord("00B2510000000000", 0, "BK-GAS-1", "1.7", "G",
                                                         "1200000000000", DCC, False)])
    with pytest.raises(wire.FrameError):
        wire.decode_query_answer(payload[:cut])


def test_a_beta_frame_length_out_of_range_is_refused():
    with pytest.raises(wire.FrameError):
        wire.split_header(wire.HEADER.pack(2, 1, 1))


def test_a_swap_that_times_out_and_runs_late_is_settled_before_reconciling(tmp_path):
    """A timed-out alpha job may still run: reconciliation waits for it, then trusts the query."""
    from datetime import UTC, datetime

    from opendcc.clock import SimulatedClock
    from opendcc.smets1.adapters.alpha import AlphaAdapter
    from opendcc.smets1.adapters.base import ProviderTimeout
    from opendcc.smets1.invariants import violations
    from opendcc.smets1.migration import MigrationEngine
    from opendcc.smets1.states import State
    from opendcc.store.engine import open_store

    from .support import register_estate
    from .test_migration import authorise_all, run_all, states

    estate = Estate.generate("alpha", 40, 6)
    with provider_process("alpha", 40, 6, "--job-delay", "0.2") as address:
        slow = AlphaAdapter(address, job_timeout=0.02)
        with pytest.raises(ProviderTimeout):
            slow.commands(DCC, [(next(iter(estate.meters)), Op.READ_IMPORT, 0)])
        slow.settle()
        assert not slow.unfinished
        store = open_store(f"sqlite:///{tmp_path / 'late.sqlite3'}")
        register_estate(store, estate)
        engine = MigrationEngine(store, {"alpha": slow}, SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC)))
        authorise_all(engine, {"alpha": estate})
        run_all(engine)
        assert set(states(store).values()) == {State.MIGRATED}
        assert violations(store, {"alpha": slow}, DCC) == []
        slow.close()


def test_an_unknown_fault_knob_is_refused_and_changes_nothing(provider):
    import httpx

    from opendcc.smets1.adapters.base import ProtocolViolation

    _, adapter, estate = provider
    with pytest.raises((httpx.HTTPStatusError, ProtocolViolation)):
        adapter.set_faults({"meltdown": 1})
    assert isinstance(adapter.query([next(iter(estate.meters))])[next(iter(estate.meters))], MeterInfo)


def test_alerts_reach_only_the_credential_holder_in_order(provider):
    from opendcc.smets1.providers.estate import AlertKind

    _, adapter, estate = provider
    d, meter = list(estate.meters.items())[150]
    other = list(estate.meters)[151]
    assert adapter.replace_credentials(DCC, [(d, meter.owner)])[d].result is Result.OK
    start = max((a.sequence for a in adapter.alerts(DCC, 0)), default=0)
    first = adapter.raise_alert(d, AlertKind.TAMPER, "cover opened")
    adapter.raise_alert(other, AlertKind.POWER_OUTAGE)  # held by its supplier: not the DCC's
    last = adapter.raise_alert(d, AlertKind.CREDIT_ADDED, utrn="12345678901234567890")
    got = adapter.alerts(DCC, start)
    assert [(a.sequence, a.device_id, a.kind) for a in got] == [
        (first, d, AlertKind.TAMPER), (last, d, AlertKind.CREDIT_ADDED)]
    assert got[0].detail == "cover opened" and got[1].utrn == "12345678901234567890"
    assert adapter.alerts(DCC, last) == []
    assert [a.device_id for a in adapter.alerts(estate.meters[other].owner, start)] == [other]
    adapter.restore_credentials(DCC, [(d, meter.owner)])
