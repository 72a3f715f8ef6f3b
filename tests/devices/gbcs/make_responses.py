"""Build src/opendcc/devices/gbcs/responses.json from the RTDS Command/Response vector pairs.

    .venv/bin/python tests/devices/gbcs/make_responses.py

For each COMMAND vector of a use case the emulated devices serve, the paired RESPONSE
vector's payload (JSON view, notes dropped) is stored under the shape of the command. The
values in it are placeholders: the device replaces them with its own state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opendcc.config import reference_dir
from opendcc.devices.gbcs.templates import shape_key
from opendcc.devices.use_cases import USE_CASES
from opendcc.gbcs import decode, security
from opendcc.gbcs.codec import GbcsMessage, GeneralCiphering, encryption_key
from opendcc.gbcs.payloads import payload_json
from opendcc.smki.keystore import KeyStore

OUT = Path(__file__).resolve().parents[3] / "src/opendcc/devices/gbcs/responses.json"


def strip_notes(view: object) -> object:
    if isinstance(view, dict):
        return {k: strip_notes(v) for k, v in view.items() if k != "#"}
    if isinstance(view, list):
        return [strip_notes(v) for v in view]
    return view


def with_plaintexts(view: Any, response: GbcsMessage, keys: KeyStore) -> Any:
    """Mark each encrypted part of the view with its plaintext (hex), decrypted with the
    RTDS keys, so the device can encrypt the same content with its own key."""
    key = encryption_key(response.apdu, keys)
    originator = response.apdu.originator

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            if node.get("@type") == "ciphered-zcl-payload" and key is not None:
                plain = security.decrypt(key, originator, bytes.fromhex(node["ciphertext"])
                                         + bytes.fromhex(node["authentication_tag"]),
                                         bytes.fromhex(node["security_header"]))
                if plain is not None:
                    out["plaintext"] = plain.hex()
            elif node.get("@type") == "octet-string" and isinstance(node.get("value"), str) \
                    and node["value"].startswith("3100000000") and key is not None:
                raw = bytes.fromhex(node["value"])
                plain = security.decrypt(key, originator, raw[5:], raw[:5])
                if plain is not None:
                    out["plaintext"] = plain.hex()
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(view)


def main() -> None:
    keys = KeyStore.from_reference()
    rows: dict[str, list[dict[str, object]]] = {}
    for path in sorted((reference_dir() / "gbcs" / "rtds").glob("*/*_COMMAND_GBCS.HEX")):
        command = decode(bytes.fromhex(path.read_text().strip()))
        code = command.use_case.code
        partner = path.with_name(path.name.replace("_COMMAND_", "_RESPONSE_"))
        if code not in USE_CASES or not partner.exists():
            continue
        response = decode(bytes.fromhex(partner.read_text().strip()))
        row = {
            "shape": shape_key(payload_json(command.payload)),
            "success": "ERROR" not in path.name,
            "signed": bool(response.apdu.signature),
            "dated": response.apdu.date_time is not None,
            "mac": isinstance(response.frame, GeneralCiphering),
            "payload": with_plaintexts(strip_notes(payload_json(response.payload)), response, keys),
        }
        same = [r for r in rows.setdefault(code, []) if r["shape"] == row["shape"]
                and r["success"] == row["success"]]
        if not same:
            rows[code].append(row)
    doc = {"_comment": "GBCS Response structures per use case and command shape, learned from the "
                       "RTDS vectors by tests/devices/gbcs/make_responses.py; values are "
                       "placeholders the device replaces with its state.",
           "forms": rows}
    OUT.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{sum(len(v) for v in rows.values())} forms for {len(rows)} use cases -> {OUT}")


if __name__ == "__main__":
    main()
