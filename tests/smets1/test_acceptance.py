"""Acceptance: 10,000 SMETS1 meters behind two provider processes, adopted in cohorts of 1,000
with 2% device failures, a provider outage mid-cohort and an opendcc restart."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

import dcctool
from opendcc.clock import SimulatedClock
from opendcc.duis.response import serialize
from opendcc.duis.response_codes import ResponseCode
from opendcc.duis.xmldsig import verify
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.model import Registration
from opendcc.smets1 import tables as t
from opendcc.smets1.adapters import connect
from opendcc.smets1.adapters.base import ProviderAdapter
from opendcc.smets1.invariants import violations
from opendcc.smets1.migration import DCC_ID, AuthorisationLine, MigrationEngine, SimulatedCrash
from opendcc.smets1.models import model
from opendcc.smets1.progress import counts
from opendcc.smets1.providers.estate import Estate
from opendcc.smets1.response import S1SPSigner
from opendcc.smets1.service import Smets1Service, request_id_for
from opendcc.smets1.states import State
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory
from opendcc.store.engine import open_store

from .support import (
    NETWORK_OPERATOR,
    gaining_supplier,
    provider_process,
    register_estate,
    registered_supplier,
)

SIZE = 5000  # per provider
SEED = 11


def _run_round(engine: MigrationEngine, clock: SimulatedClock) -> None:
    cohorts = engine.plan_cohorts(size_limit=1000)
    for c in cohorts:
        engine.approve(c, "ops-alice")
        engine.approve(c, "ops-bob")
    clock.advance(3600 * (len(cohorts) + 1))
    engine.run_due()


@pytest.mark.java
def test_ten_thousand_meters_are_adopted_none_lost_none_controlled_twice(tmp_path: Path) -> None:
    clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
    store = open_store(f"sqlite:///{tmp_path / 'acceptance.sqlite3'}")
    estates = {p: Estate.generate(p, SIZE, SEED) for p in ("alpha", "beta")}
    for e in estates.values():
        register_estate(store, e)
    with provider_process("alpha", SIZE, SEED, "--failure-rate", "0.02") as alpha_at, \
            provider_process("beta", SIZE, SEED, "--failure-rate", "0.02") as beta_at:
        adapters: dict[str, ProviderAdapter] = {"alpha": connect("alpha", alpha_at),
                                                "beta": connect("beta", beta_at)}
        outage = {"cohorts": 0}

        def inject(cohort: int, batch: int) -> None:
            # alpha's head-end goes out of service in the middle of its second cohort
            if batch == 1 and outage["cohorts"] == 1:
                adapters["alpha"].set_faults({"outage": True})
            elif batch == 0:
                adapters["alpha"].set_faults({"outage": False})
                outage["cohorts"] += 1

        engine = MigrationEngine(store, adapters, clock, batch_size=500, on_batch=inject,
                                 crash_after_replace=15)
        lines: dict[str, list[AuthorisationLine]] = {}
        for provider, estate in estates.items():
            for meter in estate.meters.values():
                lines.setdefault(registered_supplier(meter), []).append(
                    AuthorisationLine(meter.device_id, meter.mpxn, provider))
        refused = {o.device_id: o.reason for supplier, ls in lines.items()
                   for o in engine.authorise(supplier, ls) if not o.accepted}
        assert set(refused.values()) == {"the device model or firmware is not eligible for enrolment"}

        with pytest.raises(SimulatedCrash):
            _run_round(engine, clock)
        adapters["alpha"].set_faults({"outage": False})
        engine = MigrationEngine(store, adapters, clock, batch_size=500)  # opendcc restarts
        engine.resume()
        engine.run_due()
        _run_round(engine, clock)  # rolled-back devices retried in later cohorts

        with store.connect() as conn:
            rows = {r.device_id: r for r in conn.execute(select(t.devices))}
        assert len(rows) + len(refused) == 2 * SIZE  # none lost
        assert {r.state for r in rows.values()} <= {State.MIGRATED, State.ROLLED_BACK}
        assert all(r.reason for r in rows.values() if r.state == State.ROLLED_BACK)
        assert sum(r.state == State.MIGRATED for r in rows.values()) > 0.95 * len(rows)
        assert violations(store, adapters, DCC_ID) == []
        with store.connect() as conn:
            reasons = set(conn.execute(select(t.transitions.c.reason).where(
                t.transitions.c.to_state == State.ROLLED_BACK.value)).scalars())
        assert any("out of service" in (r or "") for r in reasons), reasons  # the outage happened mid-cohort
        assert any("not responding" in (r or "") for r in reasons)  # and device failures
        summary = counts(store)
        assert summary.totals.migrated == sum(r.state == State.MIGRATED for r in rows.values())
        assert summary.totals.dormant_recovered > 0

        # migrated meters answer read, tariff and supply SRVs with signed responses
        for a in adapters.values():
            a.set_faults({"failure_rate": 0.0})  # the injected 2% was for migration
        keystore = KeyStore.from_reference()
        dcc = keystore.xml_signing(EUI64.parse(DCC_ID))
        assert dcc is not None and dcc.private_key is not None
        signer = S1SPSigner(dcc.private_key, dcc.certificate)
        service = Smets1Service(store, adapters, clock, signer, signer)
        migrated = sorted(d for d, r in rows.items() if r.state == State.MIGRATED)
        rng = random.Random(SEED)
        counter = 1
        checked: dict[str, int] = {}
        for device_id in rng.sample(migrated, 60):
            row = rows[device_id]
            user = EUI64.parse(_registered(store, row.mpxn, clock))
            for variant in ("4.1.1", "1.1.1", "1.2.1", "7.2", "7.1", "7.4"):
                counter += 1
                answer = service.execute(request_id_for(user, EUI64.parse(device_id), counter), variant, 1234)
                if not model(row.model).supports(variant):
                    assert answer.code is ResponseCode.E11
                    continue
                assert answer.code is ResponseCode.I0, (device_id, variant)
                validate_duis(answer.response)
                verify(answer.response, keystore.lookup)
                if checked.get(variant, 0) < 3:
                    checked[variant] = checked.get(variant, 0) + 1
                    inner = answer.response.find(".//{*}SMETS1SignedResponse")
                    assert inner is not None
                    passed, why = dcctool.validate(etree.tostring(copy.deepcopy(inner), xml_declaration=True,
                                                                  encoding="UTF-8"))
                    assert passed, why
                    assert dcctool.validate(serialize(answer.response))[0]  # the whole, schema-checked
        assert set(checked) == {"4.1.1", "1.1.1", "1.2.1", "7.2", "7.1", "7.4"}

        # a dormant meter is read by the gaining supplier after migration
        dormant = next(d for d in migrated if rows[d].dormant)
        gaining = _registered(store, rows[dormant].mpxn, clock)
        assert gaining != rows[dormant].previous_owner
        answer = service.execute(request_id_for(EUI64.parse(gaining), EUI64.parse(dormant), 10**6), "4.1.1")
        assert answer.code is ResponseCode.I0
        tariff = next(v for v in ("1.1.1", "1.2.1") if model(rows[dormant].model).supports(v))
        answer = service.execute(request_id_for(EUI64.parse(gaining), EUI64.parse(dormant), 10**6 + 5), tariff, 2500)
        assert answer.code is ResponseCode.I0  # and takes tariffs again

        # after a change of supplier the meter stays smart, for its new supplier only
        old = EUI64.parse(_registered(store, rows[dormant].mpxn, clock))
        new = EUI64.parse(gaining_supplier(old.hex.upper()))
        with store.begin() as conn:
            inventory.register(conn, Registration(MPxN.parse(rows[dormant].mpxn), new, NETWORK_OPERATOR,
                                                  clock.now()))
        clock.advance(1)
        assert service.execute(request_id_for(new, EUI64.parse(dormant), 10**6 + 1), "4.1.1").code is ResponseCode.I0
        assert service.execute(request_id_for(old, EUI64.parse(dormant), 10**6 + 2), "4.1.1").code is ResponseCode.E4
        for a in adapters.values():
            a.close()


def _registered(store, mpxn: str, clock: SimulatedClock) -> str:  # type: ignore[no-untyped-def]
    with store.connect() as conn:
        registration = inventory.registration_at(conn, MPxN.parse(mpxn), clock.now())
    assert registration is not None
    return registration.supplier_id.hex.upper()
