"""Helpers for the end-to-end tests: `opendcc serve` as a subprocess, DCC-tool-signed requests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from lxml import etree

import dcctool
from opendcc.client.builder import build_request
from opendcc.duis import xmldsig
from opendcc.duis.catalogue import load_catalogue
from opendcc.ids import EUI64, RequestID

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
XML = {"Content-Type": "application/xml"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`opendcc serve` in a subprocess on a free port with its own data directory."""

    def __init__(self, data: Path, *extra: str, scheme: str = "http",
                 client: httpx.Client | None = None) -> None:
        self.data = data
        self.extra = list(extra)
        self.client = client or httpx.Client(timeout=1)
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "OPENDCC_DATA": str(self.data)}
        log = (self.data / "serve.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opendcc", "serve", "--port", str(self.port),
             "--smki-port", "0", "--data", str(self.data), "--poll", "0.1", *self.extra],
            env=env, stdout=log, stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opendcc serve exited: {(self.data / 'serve.log').read_text()}")
            try:
                if self.client.get(f"{self.url}/health").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("opendcc serve did not become healthy within 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def dcc_tool_signed(srv_variant: str, body: dict[str, object], *, originator: EUI64,
                    target: EUI64, counter: int) -> bytes:
    """A request as a user of the DCC's own tool would make it: built, then signed by the tool."""
    srv = load_catalogue().get(srv_variant)
    cv = 8 if srv.non_device else 1
    root = build_request(RequestID(originator, target, counter), srv, cv, body)
    xmldsig.strip_whitespace(root)
    return dcctool.sign(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def response_code(document: bytes) -> str | None:
    return etree.fromstring(document).findtext(
        "{http://www.dccinterface.co.uk/ServiceUserGateway}Header/"
        "{http://www.dccinterface.co.uk/ServiceUserGateway}ResponseCode")
