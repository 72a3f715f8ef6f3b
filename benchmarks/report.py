"""A benchmark report: each benchmark adds a section of figures beside their baselines."""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class Section:
    """One benchmark's results: a title, a table of rows, and notes."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Add a row; numbers are formatted for reading."""
        self.rows.append([_fmt(c) for c in cells])

    def markdown(self) -> str:
        """The section as Markdown."""
        out = [f"## {self.title}", "", "| " + " | ".join(self.columns) + " |",
               "|" + "---|" * len(self.columns)]
        out += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.notes:
            out += ["", *self.notes]
        return "\n".join(out) + "\n"


def _fmt(cell: object) -> str:
    if isinstance(cell, float):
        return f"{cell:,.2f}" if abs(cell) < 100 else f"{cell:,.0f}"
    return str(cell)


def machine_line() -> str:
    """What machine and when: CPU model, cores, Python."""
    cpu = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip() or "uncommitted"
    return (f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {commit}.")
