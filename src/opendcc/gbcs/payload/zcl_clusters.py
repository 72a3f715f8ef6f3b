"""Cluster-specific ZCL commands that GBCS uses (ZigBee Smart Energy 1.x, GBCS §7.3).

Not modelled yet: every cluster-specific payload is kept as `ClusterCommandPayload` octets.
`read_cluster_command` is the hook where modelled commands are looked up by
(cluster id, direction, command id).
"""

from __future__ import annotations

from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.zcl import ZclCommandPayload


def read_cluster_command(cluster_id: int, command: int, server_to_client: bool,
                         r: Reader) -> ZclCommandPayload | None:
    """A modelled cluster-specific payload, or None to keep the octets as they are."""
    return None
