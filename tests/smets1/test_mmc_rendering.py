"""A SMETS1 answer (`SMETS1SignedResponse/SMETS1Response`) and Parse and Correlate's
`ra:GBCSResponse` for the same SRV are written by the same MMC function, with the same
structure, and both are valid (DUIS Schema V5.4 / MMC Schema V5.4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from opendcc.client.mmc import document
from opendcc.client.parse import parse
from opendcc.config import reference_dir
from opendcc.duis.xsd import validate_duis, validate_mmc
from opendcc.ids import EUI64
from opendcc.smets1.migration import DCC_ID
from opendcc.smets1.response import S1SPSigner, Smets1Outcome, signed_response
from opendcc.smets1.service import SRV_OPERATION
from opendcc.smki.keystore import KeyStore

RTDS = reference_dir() / "gbcs" / "rtds"
# Every RTDS Response of every SRV a SMETS1 adapter serves (whole folders).
VECTORS = sorted(p for p in RTDS.glob("*/*_RESPONSE_GBCS.HEX")
                 if p.parent.name.split("_", 1)[0] in SRV_OPERATION)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore.from_reference()


@pytest.fixture(scope="module")
def signer(keys: KeyStore) -> S1SPSigner:
    dcc = keys.xml_signing(EUI64.parse(DCC_ID))
    assert dcc is not None and dcc.private_key is not None
    return S1SPSigner(dcc.private_key, dcc.certificate)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The documents `document.response_parts` wrote into, in order."""
    seen: list[str] = []
    original = document.response_parts

    def spy(parent: etree._Element, *args: object, **kwargs: object) -> etree._Element:
        seen.append(etree.QName(parent).localname)
        return original(parent, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(document, "response_parts", spy)
    yield seen


def _names(parent: etree._Element | None) -> list[str]:
    assert parent is not None
    return [etree.QName(child).localname for child in parent]


def _leaves(smets: etree._Element) -> set[str]:
    """Paths of the leaf elements under SMETSData (`Electricity/ActiveImportRegister/Value`)."""
    out = set()
    for el in smets.iter():
        if isinstance(el.tag, str) and len(el) == 0:
            steps = [el, *el.iterancestors()]
            out.add("/".join(etree.QName(e).localname for e in reversed(steps[:steps.index(smets)])))
    return out


def test_every_smets1_srv_has_reference_responses() -> None:
    assert {p.parent.name.split("_", 1)[0] for p in VECTORS} >= {"4.1.1", "1.1.1", "7.1", "7.4"}


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name.removesuffix("_GBCS.HEX"))
def test_smets1_and_gbcs_answers_come_from_the_same_mmc_rendering(
        path: Path, keys: KeyStore, signer: S1SPSigner, calls: list[str]) -> None:
    srv = path.parent.name.split("_", 1)[0]
    parsed = parse(bytes.fromhex(path.read_text().strip()), keys=keys, srv=srv)
    gbcs_doc = parsed.to_mmc_xml()
    outcome = Smets1Outcome(srv, parsed.business_originator, parsed.business_target,
                            parsed.originator_counter, parsed.success, 1)
    fuel = "G" if parsed.use_case.startswith("G") else "E"
    smets1_doc = signed_response(outcome, fuel, signer, NOW)

    assert calls == ["GBCSResponse", "SMETS1Response"]
    validate_mmc(gbcs_doc)
    validate_duis(smets1_doc)

    ra = f"{{{document.MMC_NS}}}"
    inner = smets1_doc.find("{*}SMETS1Response")
    assert inner is not None
    # Same Header, less what only GBCS has (its message code); a SMETS1 answer is always
    # dated, a GBCS Response only when the device dated it.
    optional = {"GBCSHexadecimalMessageCode", "Timestamp"}
    gbcs_header = [n for n in _names(gbcs_doc.find(f"{ra}Header")) if n not in optional]
    smets1_header = _names(inner.find("{*}Header"))
    assert [n for n in smets1_header if n not in optional] == gbcs_header
    assert smets1_header[-1] == "Timestamp"
    # Same ResponsePayload, less GBCSData: the same SMETSData element for the SRV.
    gbcs_smets = gbcs_doc.find(f"{ra}Body/{ra}ResponseMessage/{ra}SMETSData")
    smets1_smets = inner.find(f"{{*}}Body/{{*}}ResponseMessage/{ra}SMETSData")
    assert _names(inner.find("{*}Body/{*}ResponseMessage")) == (["SMETSData"] if smets1_smets is not None else [])
    if parsed.success:
        assert smets1_smets is not None
    if gbcs_smets is not None and smets1_smets is not None:
        assert _names(gbcs_smets) == _names(smets1_smets)
        assert gbcs_smets[0].get("MessageSuccess") == smets1_smets[0].get("MessageSuccess")
        if parsed.success:
            assert _leaves(smets1_smets) <= _leaves(gbcs_smets)
