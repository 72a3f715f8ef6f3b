"""Support for the DCC Boxed compatibility tests: the published Node clients, `opendcc serve`
as a subprocess, DUIS templates made ready to sign, and the DUIS responses opendcc sends.

The responses are built with the gateway's own builder (`opendcc.duis.response.build_response`)
and signed by the gateway's own DCC signer (`opendcc.gateway.pipeline.DccSigner` over the key
`KeyStore.xml_signing(DCC)`, as `gateway.wiring.build_services` makes it), so what the Node
clients check is what the gateway puts on the wire.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from opendcc.config import reference_dir
from opendcc.core.alerts import device_alert_message, power_outage_message
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.request import SR
from opendcc.duis.response import build_response, payload_element
from opendcc.duis.response_codes import ResponseCode
from opendcc.gateway.pipeline import DccSigner
from opendcc.gateway.wiring import DCC_ID
from opendcc.gbcs import codec
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.general_signing import GeneralSigning
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore

NODE_DIR = Path(__file__).parent / "node"
DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"
XML = {"Content-Type": "application/xml"}
SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
CHF = EUI64.parse("00-DB-12-34-56-78-90-A2")
GBCS_VERSION = "4.0"  # GBCS version the RTDS 4.5 vectors are written to (PreCommand element)


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


# ------------------------------------------------------------------------------------------
# the published Node clients

def install_node_clients() -> Path:
    """`npm install` the pinned DCC Boxed client packages into tests/boxed/node (gitignored)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "node and npm are needed to run the published DCC Boxed clients"
    assert shutil.which("java"), "java is needed by @smartdcc/duis-sign-wrap"
    run = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-package-lock"],
                         cwd=NODE_DIR, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, f"npm install failed:\n{run.stdout}\n{run.stderr}"
    return NODE_DIR


def run_node(script: str, payload: list[Any], timeout: float = 300) -> list[dict[str, Any]]:
    """Run one of the harness scripts with a JSON list on stdin; its JSON list from stdout."""
    run = subprocess.run(["node", script], input=json.dumps(payload), cwd=NODE_DIR,
                         capture_output=True, text=True, timeout=timeout, check=False)
    assert run.returncode == 0, f"node {script} failed:\n{run.stderr}"
    out: list[dict[str, Any]] = json.loads(run.stdout)
    return out


def sign_with_duis_sign_wrap(unsigned: list[bytes]) -> list[bytes]:
    """Sign requests with `@smartdcc/duis-sign-wrap` `signDuis` (the tool stamps the counter)."""
    results = run_node("sign.js", [doc.decode() for doc in unsigned])
    for result in results:
        assert "signed" in result, f"duis-sign-wrap refused to sign: {result.get('error')}"
    return [r["signed"].encode() for r in results]


def check_with_clients(documents: list[bytes]) -> list[dict[str, Any]]:
    """`validateDuis` (duis-sign-wrap) then `parseDuis('simplified')` (duis-parser) on each."""
    return run_node("check.js", [doc.decode() for doc in documents])


def parse_with_duis_parser(documents: list[bytes]) -> list[dict[str, Any]]:
    """`parseDuis('simplified')` alone on each (no JVM): for sweeps over whole folders."""
    return run_node("parse.js", [doc.decode() for doc in documents])


# ------------------------------------------------------------------------------------------
# `opendcc serve` in a subprocess

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`opendcc serve` (what `make run` starts) on a free port with its own data directory."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store_url = f"sqlite:///{data / 'opendcc.sqlite3'}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.data / "serve.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "opendcc", "serve", "--port", str(self.port),
             "--smki-port", "0", "--data", str(self.data), "--poll", "0.1"],
            env={**os.environ, "OPENDCC_DATA": str(self.data)}, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opendcc serve exited: {self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("opendcc serve did not become healthy within 60 s")

    def log(self) -> str:
        return (self.data / "serve.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def post(self, endpoint: str, body: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/api/v1/{endpoint}", content=body, headers=XML, timeout=30)


# ------------------------------------------------------------------------------------------
# requests as a DCC Boxed user prepares them

def templates() -> list[Path]:
    """Every published RTDS DUIS request template."""
    return sorted((reference_dir() / "duis" / "templates").glob("*.XML"))


def unsigned_template(name: str) -> bytes:
    """A template with its placeholder signature removed, ready for `signDuis`."""
    root = etree.parse(str(reference_dir() / "duis" / "templates" / name)).getroot()
    for placeholder in root.findall(DS_SIGNATURE):
        root.remove(placeholder)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def response_code(document: bytes) -> str | None:
    return etree.fromstring(document).findtext(f"{_sr('Header')}/{_sr('ResponseCode')}")


def request_id_of(document: bytes) -> str:
    return etree.fromstring(document).findtext(f"{_sr('Header')}/{_sr('RequestID')}") or ""


# ------------------------------------------------------------------------------------------
# the responses opendcc sends, built and signed as the gateway does

def dcc_signer() -> DccSigner:
    """The gateway's DCC signer, from the same key store entry `build_services` uses."""
    credential = KeyStore.from_reference().xml_signing(DCC_ID)
    assert credential is not None and credential.private_key is not None
    return DccSigner(credential.private_key, credential.certificate)


@dataclass(frozen=True)
class Vector:
    """One RTDS GBCS vector: its SRV (None for use cases without one), file and octets."""

    path: Path
    srv: str | None
    octets: bytes

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def apdu(self) -> GeneralSigning:
        frame = codec.decode_frame(self.octets)
        return frame.apdu if isinstance(frame, GeneralCiphering) else frame


def vectors(kind: str) -> list[Vector]:
    """Every RTDS vector of one kind in gbcs/rtds: PRECOMMAND, RESPONSE, ALERT (device alerts),
    FUTURE_DATED (the 8F66/8F67 alerts ending future-dated commands)."""
    pattern = "*_FUTURE_DATED_*ALERT_*GBCS.HEX" if kind == "FUTURE_DATED" else f"*_{kind}_GBCS.HEX"
    out = []
    for path in sorted((reference_dir() / "gbcs" / "rtds").glob(f"*/{pattern}")):
        srv = path.parent.name.split("_", 1)[0]
        octets = bytes.fromhex("".join(path.read_text().split()))
        out.append(Vector(path, None if srv == "NA" else srv, octets))
    return out


def _b64(octets: bytes) -> str:
    return base64.b64encode(octets).decode()


def _service_reference(variant: str) -> str:
    return load_catalogue().get(variant).service_reference


def precommand_response(vector: Vector, now: datetime) -> etree._Element:
    """DUIS 5.4 §3.5 CV 4: the Transform's answer, I0 with the GBCS Pre-Command to sign."""
    apdu = vector.apdu
    assert vector.srv is not None
    request_id = RequestID(apdu.originator, apdu.recipient, apdu.originator_counter)
    pre = payload_element("PreCommand")
    pre.append(payload_element("GBCSVersion", GBCS_VERSION))
    pre.append(payload_element("GBCSPayload", _b64(vector.octets)))
    return build_response(str(request_id), ResponseCode.I0, now=now,
                          service_reference=_service_reference(vector.srv), variant=vector.srv,
                          payload=pre)


def device_response(vector: Vector, now: datetime) -> etree._Element:
    """An async device response: I0 with the device's GBCS Response as GBCSPayload, RequestID
    user:device:counter and ResponseID device:user:counter (as the DCC test system sends)."""
    apdu = vector.apdu
    assert vector.srv is not None
    request_id = RequestID(apdu.recipient, apdu.originator, apdu.originator_counter)
    return build_response(str(request_id), ResponseCode.I0, now=now,
                          service_reference=_service_reference(vector.srv), variant=vector.srv,
                          payload=payload_element("GBCSPayload", _b64(vector.octets)),
                          response_id=request_id.response_id())


def future_dated_alert(vector: Vector, now: datetime) -> etree._Element:
    """The outcome of a future-dated command (8F66/8F67 alert) as DUIS delivers it: a
    ResponseMessage holding FutureDatedDeviceAlertMessage (DUIS 5.4 §3.5)."""
    apdu = vector.apdu
    assert vector.srv is not None
    message = payload_element("FutureDatedDeviceAlertMessage")
    message.append(payload_element("FutureDatedAlertCode", alert_code_of(vector)))
    message.append(payload_element("GBCSPayload", _b64(vector.octets)))
    message.append(payload_element("InstructionNumber", "1"))
    message.append(payload_element("TotalCommandInstructions", "1"))
    request_id = RequestID(apdu.recipient, apdu.originator, apdu.originator_counter)
    return build_response(str(request_id), ResponseCode.I0, now=now,
                          service_reference=_service_reference(vector.srv), variant=vector.srv,
                          payload=message, response_id=request_id.response_id())


def device_alert(vector: Vector, alert_code: str, now: datetime) -> etree._Element:
    """DUIS 5.4 §3.5 DeviceAlertMessage, built by the DCC's own alert builder (`core.alerts`):
    the device's GBCS alert, ResponseID device:user:counter."""
    apdu = vector.apdu
    response_id = f"{apdu.originator}:{apdu.recipient}:{apdu.originator_counter}"
    return device_alert_message(alert_code, vector.octets, response_id, now)


def dcc_alert(user: EUI64, counter: int, now: datetime) -> etree._Element:
    """DUIS 5.4 DCCAlertMessage AD1 (power outage) for the demo premises, built by `core.alerts`."""
    return power_outage_message(CHF.hyphenated, datetime(2026, 1, 1, tzinfo=UTC),
                                "1312345678111", f"{DCC_ID}:{user}:{counter}", now)


def alert_code_of(vector: Vector) -> str:
    """The alert code the RTDS names the vector by (e.g. 8F36), else its message code."""
    for part in vector.name.split("_"):
        if len(part) == 4 and all(c in "0123456789ABCDEF" for c in part):
            return part
    return f"{vector.apdu.message_code:04X}"


def now() -> datetime:
    return datetime.now(UTC)
