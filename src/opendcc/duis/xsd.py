"""DUIS Schema V5.4 and the MMC (Parse and Correlate) schema, loaded once from the reference folder.

The DUIS XSD imports the xmldsig schema (which carries a DOCTYPE naming a W3C DTD by URL) and
the MMC schema under a file name with spaces. Every such reference is answered from the local
`duis/xsd` folder by a resolver; nothing is ever fetched from the network.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from opendcc.config import reference_dir
from opendcc.duis.response_codes import SchemaInvalid

if TYPE_CHECKING:
    from lxml.etree._docloader import _InputDocument

_XS = "http://www.w3.org/2001/XMLSchema"
DUIS_XSD = "DUIS_Schema_V5.4.xsd"
MMC_XSD = "MMC_Schema_V5.4.xsd"

# Names the schemas use for each other (schemaLocation or system ID) -> local file.
_LOCAL_NAMES = {
    "MMC Schema V5.4.xsd": MMC_XSD,
    "MMC%20Schema%20V5.4.xsd": MMC_XSD,
    "xmldsig-core-schema.xsd": "xmldsig-core-schema.xsd",
    "XMLSchema.dtd": "XMLSchema.dtd",
    "datatypes.dtd": "datatypes.dtd",
}


def xsd_dir() -> Path:
    """Where the DUIS schemas live: `<reference>/duis/xsd`."""
    return reference_dir() / "duis" / "xsd"


class _LocalResolver(etree.Resolver):
    """Answers schema imports and DTD references from the local xsd folder, never the network."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def resolve(self, system_url: str | None, public_id: str | None,
                context: object) -> _InputDocument | None:
        name = (system_url or "").replace("\\", "/").rsplit("/", 1)[-1]
        local = _LOCAL_NAMES.get(name)
        if local is None:
            return None
        return self.resolve_filename(str(self.folder / local), context)


def _load(name: str) -> etree.XMLSchema:
    folder = xsd_dir()
    # Trusted local schema files: entities of xmldsig's internal subset are expanded,
    # but external resources are only ever read through the resolver above.
    parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=True)
    parser.resolvers.add(_LocalResolver(folder))
    doc = etree.parse(str(folder / name), parser)
    # Point imports at the local files by absolute path (libxml2 does not always consult the
    # resolver for a relative schemaLocation that does not exist as written).
    for imp in doc.getroot().iter(f"{{{_XS}}}import", f"{{{_XS}}}include"):
        location = imp.get("schemaLocation", "").rsplit("/", 1)[-1]
        if location in _LOCAL_NAMES:
            imp.set("schemaLocation", (folder / _LOCAL_NAMES[location]).as_uri())
    return etree.XMLSchema(doc)


@cache
def duis_schema() -> etree.XMLSchema:
    """DUIS Schema V5.4, loaded on first use and kept."""
    return _load(DUIS_XSD)


@cache
def mmc_schema() -> etree.XMLSchema:
    """MMC Schema V5.4 (ra:GBCSResponse, Parse and Correlate output), loaded on first use and kept."""
    return _load(MMC_XSD)


# An lxml XMLSchema keeps its error log on the object: serialise validations per schema.
_lock = threading.Lock()


def _validate(schema: etree.XMLSchema, root: etree._Element, what: str) -> None:
    with _lock:
        if schema.validate(root):
            return
        errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
    raise SchemaInvalid(f"not valid against {what}: " + "; ".join(errors[:3]))


def validate_duis(root: etree._Element) -> None:
    """Check a DUIS Request/Response against DUIS Schema V5.4; raise SchemaInvalid naming the first errors."""
    _validate(duis_schema(), root, "DUIS Schema V5.4")


def validate_mmc(root: etree._Element) -> None:
    """Check a Parse and Correlate document against MMC Schema V5.4."""
    _validate(mmc_schema(), root, "MMC Schema V5.4")
