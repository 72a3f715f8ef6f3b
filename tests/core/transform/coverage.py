"""Write the coverage table of docs/transform.md: every GBCS use case, whether opendcc
transforms it, from which SRVs, and how the reference templates fare.

    .venv/bin/python tests/core/transform/coverage.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import transform_rtds as rtds

from opendcc.core.transform import default_tables, transform
from opendcc.duis.response_codes import DuisError
from opendcc.gbcs import codec
from opendcc.smki.keystore import KeyStore

DOC = Path(__file__).resolve().parents[3] / "docs" / "transform.md"
BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"
NOW = datetime(2014, 6, 1, tzinfo=UTC)


def main() -> int:
    keys = KeyStore.from_reference()
    tables = default_tables()
    rows = json.loads((rtds.REF / "gbcs" / "use-case-table.json").read_text())
    srvs: dict[str, set[str]] = defaultdict(set)
    for form in tables.forms:
        srvs[form.use_case].add(form.srv)
    outcome: dict[str, list[str]] = defaultdict(list)
    for t in rtds.templates():
        code = t.use_case or t.variant
        request = t.request
        device_type = rtds.DEVICE_TYPES.get(request.request_id.target.hyphenated)
        if t.vector is None:
            # No vector to compare with: an authored form (`authored/`) transforms it or not.
            try:
                sent = transform(request, now=NOW, counter=1300, keys=keys, device_type=device_type)
            except DuisError as exc:
                outcome[code].append(f"no vector, {type(exc).__name__}")
                continue
            outcome[code].append("no vector, authored" if sent.use_case == code
                                 else f"no vector, sent as {sent.use_case}")
            continue
        expected = codec.decode(bytes.fromhex("".join(t.vector.read_text().split())))
        try:
            got = codec.decode(transform(request, now=NOW, counter=1300, keys=keys, use_case=t.variant,
                                         device_type=device_type).gbcs)
        except DuisError as exc:
            outcome[code].append(type(exc).__name__)
            continue
        outcome[code].append("match" if got.apdu.message_code == expected.apdu.message_code else "differs")
    lines = ["| use case | title | transformed | SRVs | templates (structure vs RTDS) |",
             "| --- | --- | --- | --- | --- |"]
    done = 0
    for row in sorted(rows, key=lambda r: str(r["Code"])):
        code = str(row["Code"])
        if str(row.get("Message Type", "")).startswith("SME.A") or "Alert" in str(row["Use Case Title"]):
            continue  # alerts: sent by devices, not transformed
        ok = bool(srvs.get(code))
        done += ok
        res = outcome.get(code, [])
        summary = ", ".join(f"{res.count(k)} {k}" for k in sorted(set(res))) or "none"
        lines.append(f"| {code} | {str(row['Use Case Title']).removeprefix(code).strip()} | "
                     f"{'yes' if ok else 'not yet'} | {', '.join(sorted(srvs.get(code, ()))) or '-'} | {summary} |")
    head = (f"{done} of {len(lines) - 2} command use cases of the GBCS use-case table have command "
            f"forms ({len(tables.forms)} forms).\n\n")
    text = DOC.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + head + "\n".join(lines) + "\n" + text[stop:], encoding="utf-8")
    print(head.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
