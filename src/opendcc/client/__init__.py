"""The Python DUIS client SDK a service user (supplier, network operator) uses with opendcc.

    from opendcc.client import DccClient
    with DccClient.from_reference("90-B3-D5-1F-30-01-00-00") as dcc:
        r = dcc.request("8.2", {"ReadInventory": {"DeviceID": "00-DB-12-34-56-78-90-A0"}})
"""

from opendcc.client.correlate import correlate
from opendcc.client.dcc_client import DCC_ID, DccClient
from opendcc.client.errors import (
    ClientError,
    GatewayRejected,
    ResponseNotTrusted,
    ResponseTimeout,
    UnknownServiceRequest,
)
from opendcc.client.parse import parse
from opendcc.client.receiver import Receiver
from opendcc.client.response import Response

__all__ = [
    "DCC_ID",
    "ClientError",
    "DccClient",
    "GatewayRejected",
    "Receiver",
    "Response",
    "ResponseNotTrusted",
    "ResponseTimeout",
    "UnknownServiceRequest",
    "correlate",
    "parse",
]
