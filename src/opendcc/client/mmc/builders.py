"""SMETSData builders, registered by the names `tables.json` gives them.

Each builder adds to its SRV element what the decoded payload says, in schema order, and
returns True when every value the schema has a place for was rendered.
"""

from __future__ import annotations

from lxml import etree

from opendcc.client.mmc.render import Renderable, builder


@builder("outcome")
def outcome(msg: Renderable, el: etree._Element) -> bool:
    """ra:ServiceRequestBaseType: only MessageSuccess, set by the renderer from the outcome."""
    return msg.outcome.known
