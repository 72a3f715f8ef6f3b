"""Device SRVs end to end: non-critical service requests per second through the whole DCC.

Each request is a pre-signed SRV 4.1.1 (Read Instantaneous Import Registers, ECS17b) from a
supplier to an ESME it is registered for, taken by `Gateway.submit` (hardened parse, DUIS
schema, XMLDSig verify, SMKI certificate checks, replay protection, access control, audit,
Transform with the ACB's MAC, all in one SQLite transaction), carried over the simulated WAN
with zero latency to the emulated ESME (trust anchor, MAC and counter check, register read,
MACed GBCS Response), wrapped as a DUIS Response, signed by the DCC and put in the durable
outbox (the HTTP POST to the user's endpoint is not measured here; bench_gateway measures the
HTTP layer).

Two worker processes (the machine's 2 cores) each run the whole DCC in process against one
shared SQLite file in WAL mode, as two gateway processes sharing a store would; each worker's
requests come from its own user (the RequestID counter must rise per originator, so one user's
requests cannot be spread over workers without reordering them): the supplier reads the DCC
Boxed ESME, the network operator the ESME of a generated premises.
Beside it, in the same run: the crypto-only bound, one raw ECDSA P-256 verify plus one sign
per request, on 1 core and on the same 2 worker processes.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from multiprocessing.synchronize import Barrier

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from benchmarks.report import Section
from opendcc.client.builder import build_request
from opendcc.clock import SimulatedClock
from opendcc.core.alerts import registered_parties
from opendcc.core.device_layer import DEMO_NETWORK_OPERATOR, demo_device_side, register_estate
from opendcc.core.service import DataService
from opendcc.devices.estate import Estate
from opendcc.devices.wan import ZERO_LATENCY
from opendcc.duis import xmldsig
from opendcc.duis.catalogue import load_catalogue
from opendcc.gateway.pipeline import Endpoint
from opendcc.gateway.wiring import GatewayConfig, build_services, seed
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore
from opendcc.store import outbox as outbox_repo
from opendcc.store.engine import open_store

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")  # the DCC Boxed ESME, registered to SUPPLIER
REQUESTS = 400  # per worker and round
WARMUP = 30
ROUNDS = 3  # the machine is shared: keep the best round
WORKERS = 2
START = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _signed(keys: KeyStore, supplier: EUI64, esme: EUI64, first: int, count: int) -> list[bytes]:
    cred = keys.xml_signing(supplier)
    assert cred is not None and cred.private_key is not None
    srv = load_catalogue().get("4.1.1")
    out = []
    for counter in range(first, first + count):
        root = build_request(RequestID(supplier, esme, counter), srv, 1,
                             {"ReadInstantaneousImportRegisters": {}})
        xmldsig.sign(root, cred.private_key, cred.certificate)
        out.append(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return out


@dataclass
class _Worker:
    """One gateway process: its own DCC (gateway, Data Service, Transform, WAN, devices) over
    the shared store, serving one supplier's requests to one ESME."""

    submit: Callable[[bytes], None]
    documents: list[bytes]
    answered: Callable[[], int]
    close: Callable[[], None]


def _worker_dcc(index: int, store_url: str, keys: KeyStore, rounds: int) -> _Worker:
    clock = SimulatedClock(START)
    # Worker 0: supplier 1 reads the DCC Boxed ESME. Worker 1: the network operator (4.1.1 is
    # open to ED) reads the ESME of a generated premises the parent registered.
    side = demo_device_side(clock, keys, premises=index)
    side.estate.wan.profile = ZERO_LATENCY
    user, esme = SUPPLIER, ESME
    if index:
        user, esme = DEMO_NETWORK_OPERATOR, side.estate.premises[-1].esme.eui
    store = open_store(store_url)
    service = DataService(store, load_catalogue(), clock, devices=side.layer)
    services = build_services(GatewayConfig(store_url=store_url, smki_url="sqlite://",
                                            clock=clock, seed=False),
                              service=service, store=store)
    side.connect(services.deliver, registered_parties(store, clock.now))

    def submit(doc: bytes) -> None:
        answer = services.gateway.submit(Endpoint.S, doc, "application/xml")
        assert answer.code == "I99", answer
        clock.advance(0)  # zero latency: the device answers, the DCC signs and queues

    return _Worker(submit, _signed(keys, user, esme, 1, WARMUP + REQUESTS * rounds),
                   lambda: side.router.counts.answered, services.close)


def _serve(index: int, store_url: str, rounds: int, barrier: Barrier, pipe: Pipe) -> None:
    """A worker process: build, warm up, then for each round wait for the others and run."""
    logging.getLogger("opendcc").setLevel(logging.ERROR)
    keys = KeyStore.from_reference()
    worker = _worker_dcc(index, store_url, keys, rounds)
    try:
        for doc in worker.documents[:WARMUP]:
            worker.submit(doc)
        for i in range(rounds):
            chunk = worker.documents[WARMUP + i * REQUESTS:WARMUP + (i + 1) * REQUESTS]
            barrier.wait(300)
            started = time.perf_counter()
            for doc in chunk:
                worker.submit(doc)
            pipe.send((started, time.perf_counter(), len(chunk)))
        barrier.wait(300)
        pipe.send(("crypto", _crypto_bound()))
        pipe.send(("answered", worker.answered()))
    finally:
        worker.close()
        pipe.close()


def _end_to_end(workers: int, rounds: int = ROUNDS) -> tuple[float, int, int]:
    """Best SR/s over `rounds` rounds of `workers` processes on one SQLite file (WAL); device
    answers; outbox rows. Also the crypto bound measured by the same processes at once."""
    with tempfile.TemporaryDirectory(prefix="opendcc-bench-") as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'dcc.sqlite3')}"
        store = open_store(url)
        seed(store)
        if workers > 1:  # the generated premises worker 1 reads
            register_estate(store, Estate.demo(1, seed=1, clock=SimulatedClock(START)),
                            SUPPLIER, DEMO_NETWORK_OPERATOR, START - timedelta(days=1))
        store.close()
        ctx = mp.get_context("fork")
        barrier = ctx.Barrier(workers)
        pipes, procs = [], []
        for index in range(workers):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(index, url, rounds, barrier, theirs))
            proc.start()
            pipes.append(ours)
            procs.append(proc)
        def recv(pipe: Pipe) -> object:
            if not pipe.poll(300):
                raise RuntimeError("a benchmark worker died or hung (see its traceback)")
            return pipe.recv()

        best = 0.0
        for _ in range(rounds):
            spans: list = [recv(p) for p in pipes]
            total = sum(n for _, _, n in spans)
            best = max(best, total / (max(e for _, e, _ in spans) - min(s for s, _, _ in spans)))
        crypto = sum(recv(p)[1] for p in pipes)  # type: ignore[index]
        answered = sum(recv(p)[1] for p in pipes)  # type: ignore[index]
        for proc in procs:
            proc.join()
        store = open_store(url)
        with store.connect() as conn:
            queued = outbox_repo.pending_count(conn)
        store.close()
        _CRYPTO_PARALLEL[workers] = crypto
        return best, answered, queued


_CRYPTO_PARALLEL: dict[int, float] = {}


def _rate(fn: Callable[[], object], seconds: float = 1.5) -> float:
    for _ in range(20):
        fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def _crypto_bound() -> float:
    """One raw ECDSA P-256 verify plus one sign, per second."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    message = b"x" * 64
    sig = key.sign(message, ec.ECDSA(hashes.SHA256()))

    def one() -> None:
        public.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        key.sign(message, ec.ECDSA(hashes.SHA256()))

    return _rate(one)


SMALL, LARGE = 100, 2_100  # premises: the per-premises figure is the slope between the two


def _memory_per_premises(keys: KeyStore) -> tuple[float, float]:
    """Bytes per premises (tracemalloc) of the device side: the emulated devices alone, and
    with their SMKI credentials (derived on demand, none held while idle) and the router. Each
    is the slope between a SMALL and a LARGE estate, so the one-off costs every device side has
    (reference keys, the PKI, warm caches) are not spread over the premises."""
    import tracemalloc

    def traced(build: Callable[[int], object]) -> float:
        sizes = []
        for premises in (SMALL, LARGE):
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            built = build(premises)
            gc.collect()
            sizes.append(tracemalloc.get_traced_memory()[0] - base)
            tracemalloc.stop()
            del built
        return (sizes[1] - sizes[0]) / (LARGE - SMALL)

    return (traced(lambda n: Estate.demo(n, seed=1, clock=SimulatedClock(START), boxed=False)),
            traced(lambda n: demo_device_side(SimulatedClock(START), keys, premises=n)))


def run() -> list[Section]:
    """Device SRs per second end to end, beside the crypto-only bound of the same run."""
    logging.getLogger("opendcc").setLevel(logging.ERROR)
    keys = KeyStore.from_reference()
    two, answered2, queued2 = _end_to_end(WORKERS)
    one, answered1, queued1 = _end_to_end(1)
    bound1 = _crypto_bound()
    bound2 = _CRYPTO_PARALLEL[WORKERS]
    section = Section("Device SRVs end to end (SRV 4.1.1 to the emulated ESME, zero WAN latency)",
                      ["measure", "per second", "ratio to 1-core bound",
                       f"ratio to {WORKERS}-process bound", "note"])
    section.add(f"signed DUIS in -> GBCS to device -> signed DUIS response in the outbox, "
                f"{WORKERS} processes", two, two / bound1, two / bound2,
                f"{answered2} device answers, {queued2} outbox rows")
    section.add("the same, 1 process", one, one / bound1, one / bound2,
                f"{answered1} device answers, {queued1} outbox rows")
    section.add("crypto-only bound: 1 ECDSA verify + 1 ECDSA sign, 1 process", bound1, 1.0,
                bound1 / bound2, "cryptography, P-256, same run")
    section.add(f"crypto-only bound, {WORKERS} processes at once", bound2, bound2 / bound1, 1.0,
                "the worker processes themselves, after their rounds")
    devices_only, with_credentials = _memory_per_premises(keys)
    section.add("memory per idle premises: devices", devices_only, "", "", "B (tracemalloc, "
                f"slope {SMALL:,} -> {LARGE:,} premises); issue target <= 4,096 B")
    section.add("memory per idle premises: devices + SMKI credentials + router", with_credentials,
                "", "", "B; keys derived and certificates found on first use (LRU), none held idle")
    section.notes.append(
        f"In process (`Gateway.submit`, no HTTP): {WORKERS} worker processes, one SQLite file in "
        "WAL mode shared by them, each worker's own user and ESME, SimulatedClock advanced "
        f"by 0 s after each request; best of {ROUNDS} rounds of {REQUESTS} requests per worker.")
    return [section]


if __name__ == "__main__":
    for s in run():
        print(s.markdown())
