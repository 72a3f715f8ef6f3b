"""The RequestID counter a user must raise with every request (DUIS 5.4 §3.4).

The DCC rejects a counter that is not greater than the last one it saw from this originator.
`Counter` hands out values that rise strictly, survive restarts (the last value is kept in a
small file) and follow wall-clock milliseconds, as the DCC tool does, so several processes of
one user rarely collide.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


class Counter:
    """Strictly rising RequestID counters, persisted to `path` when one is given."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._last = 0
        if path is not None and path.exists():
            text = path.read_text().strip()
            self._last = int(text) if text.isdigit() else 0

    def next(self) -> int:
        """A counter greater than every one handed out before (and than the time in ms)."""
        with self._lock:
            value = max(self._last + 1, time.time_ns() // 1_000_000)
            self._last = value
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(str(value))
                os.replace(tmp, self.path)
            return value
