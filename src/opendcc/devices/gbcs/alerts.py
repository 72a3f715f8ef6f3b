"""Device Alerts in GBCS: the future-dated execution alert 0x8F66 (GBCS §7.2.10, §16.2).

When a held future-dated command runs, the device tells the remote party that sent it: a
DLMS data-notification (message code 0x00CC, FDA-DLMS) for an ESME, a GBZ alert (0x00CD,
FDA-GBZ) for a GSME. The alert names the command: its message code and originator counter,
and either the first COSEM attribute it set or the first ZCL command it carried. Alerts are
signed by the device (GBCS §7.2.7: CRA flag Alert) and carry the device's own rising counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.payloads import encode_payload, payload_from_json
from opendcc.ids import EUI64

FUTURE_DATED_EXECUTION = 0x8F66
FDA_DLMS = 0x00CC
FDA_GBZ = 0x00CD
_ZIGBEE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: xDLMS Long-Invoke-Id-And-Priority: high priority bit set, the invoke id below it.
_INVOKE_PRIORITY = 0x2000_0000


@dataclass(frozen=True, slots=True)
class HeldCommand:
    """What the 0x8F66 alert says about a held command: who sent it and what it does."""

    originator: EUI64
    message_code: int
    originator_counter: int
    descriptor: tuple[int, str, int] | None  # first DLMS set: class, OBIS, attribute
    zcl: tuple[int, int, int] | None  # first GBZ component: cluster, frame control, command

    @classmethod
    def from_view(cls, originator: EUI64, message_code: int, counter: int, view: Any) -> HeldCommand:
        """The alert facts of a command from its payload JSON view."""
        descriptor = zcl = None
        for spec in view.get("access_request_list_of_specification", []) if isinstance(view, dict) else []:
            desc = spec.get("cosem_attribute_descriptor")
            if spec.get("@type") == "access-request-set" and desc:
                descriptor = (desc["class_id"], desc["instance_id"], desc["attribute_id"])
                break
        for component in view.get("components", []) if isinstance(view, dict) else []:
            frame = component.get("zcl_frame", {})
            zcl = (component.get("extended_header_cluster_id", 0), frame.get("frame_control", 0),
                   frame.get("command_identifier", 0))
            break
        return cls(originator, message_code, counter, descriptor, zcl)


def _obis_octets(obis: str) -> bytes:
    """`A-B:C.D.E.F` as the six OBIS octets."""
    a_b, rest = obis.split(":")
    return bytes(int(x) for x in (*a_b.split("-"), *rest.split(".")))


def alert_payload(held: HeldCommand, executed_at: datetime, alert_counter: int) -> tuple[int, Any]:
    """The message code and payload JSON view of the 0x8F66 alert for a held command."""
    if held.descriptor is not None:
        class_id, obis, attribute = held.descriptor
        body = (held.message_code.to_bytes(2, "big") + held.originator_counter.to_bytes(8, "big")
                + class_id.to_bytes(2, "big") + _obis_octets(obis) + bytes((attribute,)))
        return FDA_DLMS, {
            "@type": "data-notification",
            "long_invoke_id_and_priority": _INVOKE_PRIORITY | (alert_counter & 0x00FF_FFFF),
            "date_time": "",
            "notification_body": {"@type": "structure", "elements": [
                {"@type": "long-unsigned", "value": FUTURE_DATED_EXECUTION},
                {"@type": "octet-string", "value": bytes(DateTime.from_datetime(executed_at)).hex()},
                {"@type": "octet-string", "value": body.hex()},
            ]},
        }
    cluster, frame_control, command = held.zcl or (0, 0, 0)
    return FDA_GBZ, {
        "@type": "gbz-alert-payload",
        "number_of_components": 1,
        "alert_code": FUTURE_DATED_EXECUTION,
        "time_stamp": int((executed_at - _ZIGBEE_EPOCH).total_seconds()),
        "content": {"@type": "future-dated-alert-payload", "message_code": held.message_code,
                    "originator_counter": held.originator_counter, "cluster_id": cluster,
                    "frame_control": frame_control, "command_identifier": command},
    }


def alert_apdu(device: EUI64, held: HeldCommand, executed_at: datetime,
               alert_counter: int) -> GeneralSigning:
    """GBCS §7.2.7: the unsigned Alert APDU (the caller signs it with the device's DS key)."""
    code, view = alert_payload(held, executed_at, alert_counter)
    payload = payload_from_json(view)
    content = encode_payload(payload) if payload is not None else b""
    return GeneralSigning(CraFlag.ALERT, alert_counter, device, held.originator, None,
                          OtherInformation(code), content, bytes(64))
