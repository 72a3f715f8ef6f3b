"""SMETS1 enrolment and adoption: meters migrated per second in cohort runs, providers included.

Two sections, each beside a baseline from the same run (the same bulk provider calls per meter,
a query and a credential swap, without any DCC-side work):

1. a mixed estate of METERS meters across both provider processes (alpha: JSON over HTTP with
   job polling; beta: binary frames over TCP), cohorts split by provider, model and firmware;
2. one cohort of METERS meters: a single alpha model (the slower protocol), the issue's target
   ("a 100,000-meter cohort in under 5 minutes on 2 cores, providers included").

The migration is everything the DCC does: authorisation checks (registration, eligibility,
duplicates), the query and swap calls, every state transition with its log row, and the
inventory commissioning, in SQLite. Set OPENDCC_BENCH_SMETS1_METERS to change the size
(default 100,000).
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from tests.smets1.support import provider_process, register_estate, registered_supplier

from benchmarks.report import Section
from opendcc.clock import SimulatedClock
from opendcc.smets1.adapters import connect
from opendcc.smets1.adapters.base import ProviderAdapter
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


def _migrate(title: str, estates: dict[str, Estate], extra: list[str]) -> Section:
    section = Section(title, ["step", "meters", "seconds", "meters/s", "baseline meters/s"])
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        addresses = {p: stack.enter_context(provider_process(p, len(e.meters), SEED, *extra))
                     for p, e in estates.items()}
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        for e in estates.values():
            register_estate(store, e)
        adapters: dict[str, ProviderAdapter] = {p: connect(p, a) for p, a in addresses.items()}
        baseline = _baseline(adapters, estates)
        clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
        engine = MigrationEngine(store, adapters, clock, batch_size=1000)
        lines: dict[str, list[AuthorisationLine]] = {}
        for provider, estate in estates.items():
            for m in estate.meters.values():
                if eligible(m.model, m.firmware):
                    lines.setdefault(registered_supplier(m), []).append(
                        AuthorisationLine(m.device_id, m.mpxn, provider))
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
        ran = time.perf_counter() - start
        for a in adapters.values():
            a.close()
        store.close()
    count = sum(len(x) for x in lines.values())
    migrated = sum(len(r.migrated) for r in reports)
    section.add("authorisation checks", count, authorised, count / authorised, baseline)
    section.add(f"cohort runs ({len(cohorts)} cohorts, largest {max(len(r.migrated) for r in reports):,})",
                migrated, ran, migrated / ran, baseline)
    section.add("authorisation + cohort runs", migrated, authorised + ran, migrated / (authorised + ran), baseline)
    total = sum(len(e.meters) for e in estates.values())
    section.notes.append(
        f"Baseline: the provider round trips alone (bulk query + credential swap per meter, no "
        f"DCC state), same processes, same run. {total - count:,} of {total:,} meters have "
        f"ineligible firmware and are refused at authorisation.")
    return section


def run() -> list[Section]:
    """Both sections: the mixed two-provider estate, then one METERS-meter cohort."""
    half = METERS // 2
    mixed = {p: Estate.generate(p, half, SEED) for p in ("alpha", "beta")}
    single = {"alpha": Estate.generate("alpha", METERS, SEED, only_model="AX-E200")}
    return [
        _migrate(f"SMETS1 adoption: {2 * half:,} meters across both providers (SQLite)", mixed, []),
        _migrate(f"SMETS1 adoption: one {METERS:,}-meter cohort (alpha AX-E200, SQLite)", single,
                 ["--model", "AX-E200"]),
    ]


if __name__ == "__main__":
    for s in run():
        print(s.markdown())
