"""Test support: the DCC's own DUIS signer/validator (`tools/dcc-xmldsig.jar`) as two functions.

`sign(xml)` and `validate(xml)` behave like
`java -cp dcc-xmldsig.jar uk.co.smartdcc.boxed.xmldsig.Sign|Validate -`. Starting a JVM costs
about half a second of CPU, and a test run makes hundreds of calls, so by default one JVM is
kept running for the whole session: a small Java driver (below) calls the tool's own
`main_aux` entry point per document, with `System.out`/`System.err` captured. Set
`OPENDCC_DCCTOOL_ONESHOT=1` to run one `java` process per call instead (slow, but exactly the
command line above).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TypeVar

from opendcc.config import reference_dir

JAR = reference_dir() / "tools" / "dcc-xmldsig.jar"
PACKAGE = "uk.co.smartdcc.boxed.xmldsig"
# Short-lived JVMs: the C1 compiler alone and class-data sharing start fastest.
JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:+UseSerialGC"]
VALIDATION_FAIL = 10  # the tool's ResultCode.VALIDATION_FAIL

T = TypeVar("T")
R = TypeVar("R")


class DccToolError(RuntimeError):
    """The DCC tool refused to sign: the message carries its diagnostics."""


# The driver reads one request per line: "<Sign|Validate>\t<file>\t<extra args...>", runs the
# tool's `main_aux` on the file and answers "<rc> <stdout bytes> <stderr bytes>\n" + both streams.
_DRIVER = r"""
import java.io.*;
import java.nio.charset.StandardCharsets;
import uk.co.smartdcc.boxed.xmldsig.*;

public class DccToolDriver {
    static final class Exit extends SecurityException {
        final int status;
        Exit(int status) { super("exit " + status); this.status = status; }
    }

    public static void main(String[] a) throws Exception {
        PrintStream realOut = System.out;
        // The tool calls System.exit on some failures: turn that into an exception.
        System.setSecurityManager(new SecurityManager() {
            @Override public void checkExit(int status) { throw new Exit(status); }
            @Override public void checkPermission(java.security.Permission p) { }
            @Override public void checkPermission(java.security.Permission p, Object c) { }
        });
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split("\t");
            String[] args = java.util.Arrays.copyOfRange(parts, 1, parts.length);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int rc;
            try {
                ResultCode r = parts[0].equals("Sign") ? Sign.main_aux(args) : Validate.main_aux(args);
                rc = r.value();
            } catch (Exit e) {
                rc = e.status;
            } catch (Throwable t) {
                t.printStackTrace(System.err);
                rc = 99;
            }
            System.out.flush();
            System.err.flush();
            byte[] o = out.toByteArray();
            byte[] e = err.toByteArray();
            realOut.write((rc + " " + o.length + " " + e.length + "\n").getBytes(StandardCharsets.US_ASCII));
            realOut.write(o);
            realOut.write(e);
            realOut.flush();
        }
    }
}
"""


class _Driver:
    """One long-running JVM that serves Sign/Validate calls one at a time."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="dcctool-"))
        source = self._dir / "DccToolDriver.java"
        source.write_text(_DRIVER)
        self._proc = subprocess.Popen(
            ["java", *JVM_FLAGS, "-Djava.security.manager=allow", "-cp", str(JAR), str(source)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._lock = threading.Lock()
        self._seq = 0
        atexit.register(self.close)

    def call(self, tool: str, xml: bytes, extra: list[str]) -> tuple[int, bytes, bytes]:
        with self._lock:
            self._seq += 1
            doc = self._dir / f"doc{self._seq}.xml"
            doc.write_bytes(xml)
            stdin, stdout = self._proc.stdin, self._proc.stdout
            assert stdin is not None and stdout is not None
            stdin.write("\t".join([tool, str(doc), *extra]).encode() + b"\n")
            stdin.flush()
            header = stdout.readline()
            if not header:
                raise RuntimeError("the DCC tool driver JVM exited")
            rc, n_out, n_err = (int(x) for x in header.split())
            out = _read_exactly(stdout, n_out)
            err = _read_exactly(stdout, n_err)
            doc.unlink()
            return rc, out, err

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise RuntimeError("the DCC tool driver JVM closed its output")
        data += chunk
    return data


_driver: _Driver | None = None
_driver_lock = threading.Lock()
_oneshot = bool(os.environ.get("OPENDCC_DCCTOOL_ONESHOT"))


def _run(tool: str, xml: bytes, extra: list[str]) -> tuple[int, bytes, bytes]:
    global _driver, _oneshot
    if not _oneshot:
        with _driver_lock:
            if _driver is None:
                _driver = _Driver()
            driver = _driver
        try:
            return driver.call(tool, xml, extra)
        except (RuntimeError, OSError):
            # The driver JVM could not start or died (e.g. a Java without SecurityManager
            # support): fall back to one java process per call for the rest of the session.
            _oneshot = True
    proc = subprocess.run(
        ["java", *JVM_FLAGS, "-cp", str(JAR), f"{PACKAGE}.{tool}", "-", *extra],
        input=xml, capture_output=True, check=False, timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def sign(xml: bytes, *, preserve_counter: bool = True) -> bytes:
    """Sign a DUIS document as the DCC tool does, with the key of its RequestID originator."""
    rc, out, err = _run("Sign", xml, ["--preserveCounter"] if preserve_counter else [])
    if rc != 0 or not out.strip():
        raise DccToolError(f"DCC tool Sign failed (exit {rc}): {err.decode(errors='replace')}")
    return out


def validate(xml: bytes) -> tuple[bool, str]:
    """Check schema and signature with the DCC tool: (passed, the tool's diagnostics)."""
    rc, _out, err = _run("Validate", xml, [])
    return rc == 0, err.decode(errors="replace")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], workers: int = 2) -> list[R]:
    """Map `fn` over items in a small thread pool (for many one-shot JVM calls)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))
