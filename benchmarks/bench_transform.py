"""Transform throughput: DUIS device requests turned into GBCS commands per second.

Every DUIS template the command tables can transform is parsed once; the figure is
`transform()` calls per second over that mix (non-critical: full Command with the ACB's MAC;
critical: Pre-Command). Beside it, from the same run: the GBCS codec's decode + re-encode of
the produced commands (the payload-tree work a transform must at least do once), and one
MAC Header (ECDH secret cached, one KDF and one GMAC) per non-critical command.

Second section: the time to learn the command forms from the reference folder (done once per
process, or once per reference folder with the disk cache), beside decoding the same RTDS
vectors alone and reading the cached forms back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks.report import Section
from opendcc.config import reference_dir
from opendcc.core.transform import learn, transform
from opendcc.core.transform.tables import tables_from_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.duis.response_codes import DuisError
from opendcc.gbcs import codec
from opendcc.smki.keystore import KeyStore

NOW = datetime(2014, 6, 1, tzinfo=UTC)
ROUNDS = 3


def _requests(keys: KeyStore) -> list[tuple[DuisRequest, str]]:
    out = []
    for path in sorted((reference_dir() / "duis" / "templates").glob("*.XML")):
        try:
            request = read_request(parse_xml(path.read_bytes()))
            variant = path.name.split("_")[0]
            transform(request, now=NOW, counter=1, keys=keys, use_case=variant)
        except (DuisError, ValueError):
            continue
        out.append((request, variant))
    return out


def _rate(fn: Callable[[], int]) -> float:
    best = 0.0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        n = fn()
        best = max(best, n / (time.perf_counter() - start))
    return best


def run() -> list[Section]:
    """Transforms per second beside codec and MAC baselines."""
    keys = KeyStore.from_reference()
    requests = _requests(keys)
    outputs = [transform(r, now=NOW, counter=1, keys=keys, use_case=v).gbcs for r, v in requests]
    commands = [codec.decode(o) for o in outputs]
    unsigned = [m.apdu for m in commands if m.kind is codec.MessageKind.COMMAND]

    def do_transform() -> int:
        for r, v in requests:
            transform(r, now=NOW, counter=1, keys=keys, use_case=v)
        return len(requests)

    reads = [(r, v) for r, v in requests if v in ("ECS17b", "GCS13a")]

    def do_reads() -> int:
        for r, v in reads:
            transform(r, now=NOW, counter=1, keys=keys, use_case=v)
        return len(reads)

    def do_codec() -> int:
        for o in outputs:
            codec.encode(codec.decode(o))
        return len(outputs)

    def do_mac() -> int:
        for apdu in unsigned:
            codec.add_mac_header(apdu, keys)
        return len(unsigned)

    section = Section("Transform: DUIS request -> GBCS command",
                      ["measure", "per second", "ratio to transform"])
    t = _rate(do_transform)
    c = _rate(do_codec)
    m = _rate(do_mac)
    section.add(f"transform() over {len(requests)} templates", t, 1.0)
    r = _rate(do_reads)
    section.add(f"transform() of register reads only ({len(reads)}: ECS17b, GCS13a)", r, r / t)
    section.add("baseline: GBCS decode + encode of the same commands", c, c / t)
    section.add(f"baseline: MAC Header only ({len(unsigned)} non-critical commands)", m, m / t)
    section.notes.append("Best of 3 rounds on a shared machine; one process, no I/O.")
    return [section, learning()]


def learning() -> Section:
    """Seconds to learn the command forms, beside decoding the vectors and reading the cache."""
    ref = reference_dir()
    vectors = [bytes.fromhex("".join(p.read_text().split()))
               for p in sorted((ref / learn.RTDS).glob("*/*COMMAND_GBCS.HEX"))]

    def best(fn: Callable[[], object], rounds: int = 2) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    learned = best(lambda: learn.learn_command_data(ref))
    decode = best(lambda: [codec.decode(v) for v in vectors])
    path = learn.cache_path(ref)
    cached = best(lambda: tables_from_data(learn.load_command_data(ref)[0])) if path.exists() else None
    section = Section("Transform: learning the command forms from the reference folder",
                      ["measure", "seconds", "ratio to learning"])
    section.add(f"learn_command_data() ({len(vectors)} RTDS vectors, templates)", learned, 1.0)
    section.add(f"baseline: GBCS decode of the {len(vectors)} vectors only", decode, decode / learned)
    if cached is not None:
        section.add("read back from the cache folder", cached, cached / learned)
    section.notes.append("Best of 2 on a shared machine. Learning runs once per process, "
                         "and once per reference folder when the cache folder is writable.")
    return section


if __name__ == "__main__":
    for s in run():
        print(s.markdown())
