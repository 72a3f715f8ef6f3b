"""Parse and Correlate speed: RTDS Responses/Alerts parsed to MMC XML, beside the GBCS decode rate.

Every figure comes from the same run over every RESPONSE and ALERT vector in the reference
folder. Baselines: the GBCS codec's decode with signature/MAC checks (what parse starts
from) and decode-only. Parse includes the checks, the decryption of ciphered payload parts
with the user's key-agreement key, and building the `ra:GBCSResponse` element; the last row
adds serialising it and validating it against MMC Schema V5.4. Correlation is measured over
every Pre-Command with its DUIS request template.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from benchmarks.report import Section
from opendcc.client.correlate import correlate
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.duis.xsd import mmc_schema
from opendcc.gbcs import codec
from opendcc.smki.keystore import KeyStore


def _rate(n: int, fn: Callable[[], object], min_seconds: float = 1.0) -> float:
    """Items per second: the best of repeated passes over the set."""
    best = float("inf")
    spent = 0.0
    while spent < min_seconds:
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best = min(best, dt)
        spent += dt
    return n / best


def _responses() -> list[tuple[bytes, str | None]]:
    out = []
    for p in sorted((reference_dir() / "gbcs" / "rtds").glob("*/*_GBCS.HEX")):
        if "_RESPONSE_" in p.name or "_ALERT_" in p.name:
            srv = p.parent.name.split("_", 1)[0]
            out.append((bytes.fromhex("".join(Path(p).read_text().split())), None if srv == "NA" else srv))
    return out


def _pairs() -> list[tuple[bytes, bytes]]:
    templates = reference_dir() / "duis" / "templates"
    out = []
    for p in sorted((reference_dir() / "gbcs" / "rtds").glob("*/*_PRECOMMAND_GBCS.HEX")):
        t = templates / (p.name.removesuffix("_PRECOMMAND_GBCS.HEX") + "_REQUEST_DUIS.XML")
        if t.exists():
            out.append((t.read_bytes(), bytes.fromhex(p.read_text().strip())))
    return out


def run() -> list[Section]:
    """Measure and report."""
    vectors = _responses()
    n = len(vectors)
    keys = KeyStore.from_reference()
    schema = mmc_schema()
    for data, srv in vectors:  # warm the shared-secret cache and the tables
        parse(data, keys=keys, srv=srv).to_mmc_xml()

    def decode_verify() -> None:
        for data, _ in vectors:
            codec.decode(data, keys)

    def decode_only() -> None:
        for data, _ in vectors:
            codec.decode(data)

    def parse_to_mmc() -> None:
        for data, srv in vectors:
            parse(data, keys=keys, srv=srv).to_mmc_xml()

    def parse_serialise_validate() -> None:
        for data, srv in vectors:
            root = parse(data, keys=keys, srv=srv).to_mmc_xml()
            etree.tostring(root)
            schema.validate(root)

    pairs = _pairs()

    def correlate_all() -> None:
        for request, pre_command in pairs:
            correlate(request, pre_command)

    section = Section(
        f"Parse and Correlate over {n} RTDS Responses/Alerts and {len(pairs)} Pre-Commands",
        ["operation", "items/s", "vs GBCS decode+verify"],
    )
    base = _rate(n, decode_verify)
    rows = [
        ("GBCS decode + verify (baseline)", base),
        ("GBCS decode only (baseline)", _rate(n, decode_only)),
        ("parse -> MMC XML element (verify, decrypt, render)", _rate(n, parse_to_mmc)),
        ("parse -> MMC XML, serialised and schema-validated", _rate(n, parse_serialise_validate)),
    ]
    for label, rate in rows:
        section.add(label, rate, f"{rate / base:.2f}x")
    section.add("correlate Pre-Command with DUIS request", _rate(len(pairs), correlate_all), "-")
    section.notes.append("Single process, one core; shared secrets cached per key pair, as the codec does.")
    return [section]
