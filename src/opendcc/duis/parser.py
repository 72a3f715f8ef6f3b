"""The one hardened XML parser of opendcc: no DTDs, no entities, no network, bounded size.

Every DUIS message (requests, responses, signed Pre-Commands) enters through `parse_xml`. A
document that declares a DTD is refused before anything in it is resolved (XXE, billion laughs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from opendcc.duis.response_codes import ForbiddenDtd, MalformedXml, Oversize

if TYPE_CHECKING:
    from lxml.etree._docloader import _InputDocument

DEFAULT_MAX_BYTES = 1_000_000

class _NothingResolver(etree.Resolver):
    """Answers every external reference (DTD, entity) with an empty document: nothing is read."""

    def resolve(self, system_url: str | None, public_id: str | None,
                context: object) -> _InputDocument | None:
        return self.resolve_string("", context)


def _make_parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )
    # libxml2 still asks for an external DTD subset even with load_dtd off: answer it empty
    # so that no local file is ever opened on behalf of a message.
    parser.resolvers.add(_NothingResolver())
    return parser


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse one DUIS document safely: refuse oversize input, any DTD, and malformed XML."""
    if len(data) > max_bytes:
        raise Oversize(f"message is {len(data)} bytes; the limit is {max_bytes}")
    try:
        # Entities stay unresolved and nothing is fetched; a DTD is then refused below.
        # lxml parsers must not be shared between threads; a fresh one costs microseconds.
        tree = etree.fromstring(data, parser=_make_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXml(f"not well-formed XML: {exc}") from None
    if tree is None:
        raise MalformedXml("empty document")
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ForbiddenDtd("message declares a DTD; DUIS messages must not")
    return tree
