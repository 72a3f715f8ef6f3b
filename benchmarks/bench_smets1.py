"""SMETS1 enrolment and adoption: meters migrated per second in cohort runs, providers included.

Two provider processes (alpha: JSON over HTTP with job polling; beta: binary frames over TCP)
hold METERS meters between them. The figure is the whole migration of every eligible meter
(query, credential swap, state transitions, inventory commissioning, all in SQLite) in
cohorts with a size limit of METERS, beside a baseline from the same run: the same two bulk
provider calls per meter (query and a credential swap) without any DCC-side work.
Set OPENDCC_BENCH_SMETS1_METERS to change the size (default 100,000).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.smets1.support import provider_process, register_estate, registered_supplier

from benchmarks.report import Section
from opendcc.clock import SimulatedClock
from opendcc.smets1.adapters import connect
from opendcc.smets1.adapters.base import MeterInfo, ProviderAdapter
from opendcc.smets1.migration import AuthorisationLine, MigrationEngine
from opendcc.smets1.models import eligible
from opendcc.smets1.providers.estate import Estate
from opendcc.store.engine import open_store

METERS = int(os.environ.get("OPENDCC_BENCH_SMETS1_METERS", "100000"))
SEED = 21


def _baseline(adapters: dict[str, ProviderAdapter], estates: dict[str, Estate]) -> float:
    """Meters per second through the provider calls alone: a bulk query and a refused swap."""
    start = time.perf_counter()
    total = 0
    for name, adapter in adapters.items():
        ids = list(estates[name].meters)
        adapter.query(ids)
        adapter.replace_credentials("FFFFFFFFFFFFFFFF", [(d, "0000000000000000") for d in ids])
        total += len(ids)
    return total / (time.perf_counter() - start)


def run() -> list[Section]:
    """Migrate METERS meters across both providers; report rates beside the provider baseline."""
    half = METERS // 2
    estates = {p: Estate.generate(p, half, SEED) for p in ("alpha", "beta")}
    section = Section(f"SMETS1 adoption of {2 * half:,} meters (two provider processes, SQLite)",
                      ["step", "meters", "seconds", "meters/s", "baseline meters/s"])
    with tempfile.TemporaryDirectory() as tmp, \
            provider_process("alpha", half, SEED) as alpha_at, provider_process("beta", half, SEED) as beta_at:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        for e in estates.values():
            register_estate(store, e)
        adapters: dict[str, ProviderAdapter] = {"alpha": connect("alpha", alpha_at), "beta": connect("beta", beta_at)}
        baseline = _baseline(adapters, estates)
        clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
        engine = MigrationEngine(store, adapters, clock, batch_size=1000)
        lines: dict[str, list[AuthorisationLine]] = {}
        for provider, estate in estates.items():
            for m in estate.meters.values():
                if eligible(m.model, m.firmware):
                    lines.setdefault(registered_supplier(m), []).append(AuthorisationLine(m.device_id, m.mpxn, provider))
        eligible_count = sum(len(x) for x in lines.values())
        start = time.perf_counter()
        for supplier, ls in lines.items():
            engine.authorise(supplier, ls)
        authorised = time.perf_counter() - start
        start = time.perf_counter()
        cohorts = engine.plan_cohorts(size_limit=METERS)
        for c in cohorts:
            engine.approve(c, "ops-alice")
            engine.approve(c, "ops-bob")
        clock.advance(3600 * (len(cohorts) + 1))
        reports = engine.run_due()
        migrated_s = time.perf_counter() - start
        migrated = sum(len(r.migrated) for r in reports)
        owners = {i.owner for a, e in zip(adapters.values(), estates.values(), strict=True)
                  for i in a.query(list(e.meters)[:1000]) .values() if isinstance(i, MeterInfo)}
        for a in adapters.values():
            a.close()
        store.close()
    section.add("authorisation checks", eligible_count, authorised, eligible_count / authorised, baseline)
    section.add(f"cohort runs ({len(cohorts)} cohorts)", migrated, migrated_s, migrated / migrated_s, baseline)
    section.add("authorisation + cohorts", migrated, authorised + migrated_s,
                migrated / (authorised + migrated_s), baseline)
    section.notes.append(
        f"Baseline: the provider round trips alone (bulk query + credential swap per meter, "
        f"no DCC state). Cohorts are split by provider, model and firmware; {METERS - eligible_count:,} "
        f"meters with ineligible firmware are refused at authorisation. Credential holders seen "
        f"after the run: {len(owners)}.")
    return [section]


if __name__ == "__main__":
    for s in run():
        print(s.markdown())
