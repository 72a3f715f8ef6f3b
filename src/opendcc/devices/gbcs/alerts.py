"""Device Alerts in GBCS: the future-dated execution alert 0x8F66 (GBCS §7.2.10, §16.2).

When a held future-dated command runs, the device tells the remote party that sent it: a
DLMS data-notification (message code 0x00CC, FDA-DLMS) for an ESME, a GBZ alert (0x00CD,
FDA-GBZ) for a GSME. The alert names the command: its message code and originator counter,
and the part of it that was activated: a COSEM activation-time attribute or a ZCL command.
A command activating several parts raises one alert for each. Alerts are
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
#: ZCL fields that carry the execution time of a Smart Energy command.
ZCL_TIME_FIELDS = ("implementation_date_time", "start_time")
#: xDLMS Long-Invoke-Id-And-Priority: high priority bit set, the invoke id below it.
_INVOKE_PRIORITY = 0x2000_0000


@dataclass(frozen=True, slots=True)
class HeldCommand:
    """What the 0x8F66 alerts say about a held command: who sent it, and each part of it that
    is activated at the execution time (one alert each, as RTDS shows): the DLMS
    activation-time attributes it set, or the GBZ components carrying a start time."""

    originator: EUI64
    message_code: int
    originator_counter: int
    descriptors: tuple[tuple[int, str, int], ...] = ()  # DLMS: class, OBIS, attribute
    components: tuple[tuple[int, int, int], ...] = ()  # GBZ: cluster, frame control, command

    @classmethod
    def from_view(cls, originator: EUI64, message_code: int, counter: int, view: Any) -> HeldCommand:
        """The alert facts of a command from its payload JSON view."""
        descriptors: list[tuple[int, str, int]] = []
        components: list[tuple[int, int, int]] = []
        if isinstance(view, dict):
            specs = view.get("access_request_list_of_specification", [])
            for spec, data in zip(specs, view.get("access_request_list_of_data", []), strict=False):
                desc = spec.get("cosem_attribute_descriptor")
                if spec.get("@type") == "access-request-set" and desc and is_activation_time(data):
                    descriptors.append((desc["class_id"], desc["instance_id"], desc["attribute_id"]))
            for component in view.get("components", []):
                frame = component.get("zcl_frame", {})
                if carries_start_time(component):
                    components.append((component.get("extended_header_cluster_id", 0),
                                       frame.get("frame_control", 0),
                                       frame.get("command_identifier", 0)))
        return cls(originator, message_code, counter, tuple(descriptors), tuple(components))

    def targets(self) -> list[tuple[int, str, int] | tuple[int, int, int]]:
        """One entry per alert."""
        return [*self.descriptors, *self.components]


def is_activation_time(data: Any) -> bool:
    """A DLMS set value that is a COSEM date-time on its own (an activation time)."""
    value = data.get("value") if isinstance(data, dict) else None
    return data.get("@type") == "octet-string" and isinstance(value, str) and len(value) == 24


def carries_start_time(component: Any) -> bool:
    """A GBZ component whose command has a start / implementation time, or a From Date-Time."""
    fields = component.get("zcl_frame", {}).get("payload", {}).get("fields", {})
    return any(isinstance(fields.get(n), int) for n in ZCL_TIME_FIELDS) \
        or component.get("from_date_time") is not None


def _obis_octets(obis: str) -> bytes:
    """`A-B:C.D.E.F` as the six OBIS octets."""
    a_b, rest = obis.split(":")
    return bytes(int(x) for x in (*a_b.split("-"), *rest.split(".")))


def alert_payload(held: HeldCommand, target: tuple[int, Any, int], executed_at: datetime,
                  alert_counter: int) -> tuple[int, Any]:
    """The message code and payload JSON view of one 0x8F66 alert for a held command."""
    if isinstance(target[1], str):
        class_id, obis, attribute = target
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
    cluster, frame_control, command = target
    return FDA_GBZ, {
        "@type": "gbz-alert-payload",
        "number_of_components": 1,
        "alert_code": FUTURE_DATED_EXECUTION,
        "time_stamp": int((executed_at - _ZIGBEE_EPOCH).total_seconds()),
        "content": {"@type": "future-dated-alert-payload", "message_code": held.message_code,
                    "originator_counter": held.originator_counter, "cluster_id": cluster,
                    "frame_control": frame_control, "command_identifier": command},
    }


def alert_apdu(device: EUI64, held: HeldCommand, target: tuple[int, Any, int],
               executed_at: datetime, alert_counter: int) -> GeneralSigning:
    """GBCS §7.2.7: one Alert APDU, with an empty signature slot for the device to sign."""
    code, view = alert_payload(held, target, executed_at, alert_counter)
    payload = payload_from_json(view)
    content = encode_payload(payload) if payload is not None else b""
    return GeneralSigning(CraFlag.ALERT, alert_counter, device, held.originator, None,
                          OtherInformation(code), content, bytes(64))


#: GBCS message codes of the general device alerts: critical (signed) and non-critical (MACed).
GCA = 0x1000
GNCA = 0x1001
#: Alert codes sent as critical alerts (signed): the 0x8Fxx range. opendcc's reading of the
#: GBCS alert table; RTDS shows 0x8F30 as a GCA and 0x810E as a GNCA.
_CRITICAL_RANGE = 0x8F00


def is_critical_alert(code: int) -> bool:
    """Whether a device alert goes as a critical (signed) General Alert."""
    return code & 0xFF00 == _CRITICAL_RANGE


def general_alert_apdu(device: EUI64, recipient: EUI64, code: int, at: datetime, *, dlms: bool,
                       alert_counter: int) -> GeneralSigning:
    """GBCS §16.2: a General Critical / Non-Critical Alert (GCA 0x1000 / GNCA 0x1001): a DLMS
    data-notification {alert code, date-time} from an ESME, a GBZ alert without components from
    a GSME. A critical one has an empty signature slot for the device to sign."""
    critical = is_critical_alert(code)
    view: Any
    if dlms:
        view = {
            "@type": "data-notification",
            "long_invoke_id_and_priority": _INVOKE_PRIORITY | (alert_counter & 0x00FF_FFFF),
            "date_time": "",
            "notification_body": {"@type": "structure", "elements": [
                {"@type": "long-unsigned", "value": code},
                {"@type": "octet-string", "value": bytes(DateTime.from_datetime(at)).hex()},
            ]},
        }
    else:
        view = {"@type": "gbz-alert-payload", "number_of_components": 0, "alert_code": code,
                "time_stamp": int((at - _ZIGBEE_EPOCH).total_seconds()),
                "content": {"@type": "gbz-alert-components", "components": []}}
    payload = payload_from_json(view)
    content = encode_payload(payload) if payload is not None else b""
    return GeneralSigning(CraFlag.ALERT, alert_counter, device, recipient, None,
                          OtherInformation(GCA if critical else GNCA), content,
                          bytes(64) if critical else None)
