"""Run every benchmark module (`benchmarks/bench_*.py`) and write docs/benchmarks.md.

Each module exposes `run() -> list[Section]`. `python -m benchmarks NAME...` runs a subset;
results for modules not run are kept from the previous docs/benchmarks.md.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from benchmarks.report import machine_line

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
MARK = re.compile(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->\n", re.S)


def main(argv: list[str]) -> None:
    """Run the chosen benchmarks (default all) and update the report."""
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))
    old = dict(MARK.findall(DOC.read_text())) if DOC.exists() else {}
    for name in names:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"running {name} ...", flush=True)
        sections = mod.run()
        text = f"_{machine_line()}_\n\n" + "\n".join(s.markdown() for s in sections)
        print(text)
        old[name] = text
    body = "".join(f"<!-- bench:{k} -->\n{v}<!-- /bench:{k} -->\n" for k, v in sorted(old.items()))
    DOC.write_text(
        "# Benchmarks\n\nWritten by `make bench` (`python -m benchmarks [name ...]`). Each figure "
        "stands beside the baseline measured in the same run.\n\n" + body
    )


if __name__ == "__main__":
    main(sys.argv[1:])
