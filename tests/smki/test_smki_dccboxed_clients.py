"""The published DCC Boxed SMKI client (`@smartdcc/dccboxed-keystore`, installed with npm at test
time, never committed) finds and retrieves certificates from opendcc's SMKI service unchanged."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.profile import RemotePartyRole
from opendcc.smki.repository import CertificateRepository
from opendcc.smki.service import create_smki_app

PACKAGE = "@smartdcc/dccboxed-keystore@0.4.2"
# RTDS / DCC Boxed estate devices (gbcs/keystore) and one made by opendcc at manufacture.
REFERENCE_DEVICES = [EUI64.parse("00-DB-12-34-56-78-90-A4"), EUI64.parse("00-DB-12-34-56-78-90-01")]
NEW_DEVICE = EUI64.parse("00-DB-12-34-56-78-9F-01")
ORGANISATIONS = {RemotePartyRole.SUPPLIER: EUI64.parse("90-B3-D5-1F-30-0A-00-01"),
                 RemotePartyRole.NETWORK_OPERATOR: EUI64.parse("90-B3-D5-1F-30-0A-00-02"),
                 RemotePartyRole.ACCESS_CONTROL_BROKER: EUI64.parse("90-B3-D5-1F-30-0A-00-03")}

CLIENT_SCRIPT = r"""
const ks = require('@smartdcc/dccboxed-keystore')
const cs = require('@smartdcc/dccboxed-keystore/dist/certificateSearch')
async function main() {
  const [addr, devicesJson, orgsJson] = process.argv.slice(2)
  const store = await ks.BoxedKeyStore.new(addr)
  const out = {devices: {}, roles: {}}
  for (const d of JSON.parse(devicesJson)) {
    out.devices[d] = {}
    for (const [name, usage] of [['ds', ks.KeyUsage.digitalSignature], ['ka', ks.KeyUsage.keyAgreement]]) {
      const r = await store.query({eui: d, keyUsage: usage, lookup: 'certificate'})
      out.devices[d][name] = r ? r.map(x => x.serial.toString(16).toUpperCase()) : null
    }
  }
  for (const [role, eui] of Object.entries(JSON.parse(orgsJson))) {
    const r = await cs.search({q: {CertificateSubjectName: eui}, CertificateRole: role,
                               CertificateUsage: 'DS', CertificateStatus: 'I'}, addr)
    out.roles[role] = r.map(x => ({eui: x.meta.eui.toString(), role: x.meta.role,
                                   serial: x.meta.serial.toString(16).toUpperCase()}))
  }
  await store.cleanup()
  console.log(JSON.stringify(out))
}
main().catch(e => { console.error(e); process.exit(1) })
"""


@pytest.fixture(scope="module")
def node_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "node and npm are needed to run the published DCC Boxed client"
    folder = tmp_path_factory.mktemp("dccboxed-keystore")
    (folder / "package.json").write_text('{"name": "probe", "private": true}')
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", PACKAGE], cwd=folder,
                   check=True, timeout=300, capture_output=True)
    (folder / "client.js").write_text(CLIENT_SCRIPT)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smki_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Authority]]:
    repository = CertificateRepository(tmp_path_factory.mktemp("smki") / "smki.sqlite3")
    repository.import_reference(reference_dir())
    authority = Authority.open(repository, seed="dccboxed-client-test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_smki_app(repository, authority=authority),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "SMKI service did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}", authority
    server.should_exit = True
    thread.join(timeout=10)
    repository.close()


def test_published_client_finds_device_and_organisation_certificates(
        node_client: Path, smki_server: tuple[str, Authority]) -> None:
    address, authority = smki_server
    now = datetime.now(UTC)
    made = {u: authority.issue_device(NEW_DEVICE, u, at=now).certificate.serial_hex
            for u in ("ds", "ka")}
    issued = {int(role): authority.issue_organisation(eui, role, "ds", at=now).certificate
              for role, eui in ORGANISATIONS.items()}
    devices = [d.hyphenated for d in [*REFERENCE_DEVICES, NEW_DEVICE]]
    orgs = {str(int(role)): eui.hyphenated for role, eui in ORGANISATIONS.items()}
    run = subprocess.run(["node", "client.js", address, json.dumps(devices), json.dumps(orgs)],
                         cwd=node_client, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    repo = authority.repository
    for device in [*REFERENCE_DEVICES, NEW_DEVICE]:
        for usage in ("ds", "ka"):
            expected = {s.certificate.serial_hex for s in repo.search(entity=device, usage=usage)}
            assert set(found["devices"][device.hyphenated][usage]) == expected, (device, usage)
    assert found["devices"][NEW_DEVICE.hyphenated] == {u: [s] for u, s in made.items()}
    for role, cert in issued.items():
        assert found["roles"][str(role)] == [
            {"eui": cert.entity.lower if cert.entity else None, "role": role,
             "serial": cert.serial_hex}]
