"""Authored command forms for use cases of the Communications Hub Function (CHF) that have no
RTDS vector, and for the two device-independent use cases assigned with them: CS06 Activate
Firmware and CS02c Issue Security Credentials (any device type; ASN.1 payloads).

The CHF forms are DLMS xDLMS access-requests (GBCS §7.4) written from the GBCS use case and
the COSEM object it names (Blue Book class 104 ZigBee Network Control for the CHF Device Log,
GBCS's class 1 Data objects `0-0:94.44.10.x` for the Sub GHz functions); CS06 and CS02c carry
GBCS's own ASN.1 structures (GBCS §11.5, §13.4), as the payload codec names them
(`opendcc.gbcs.payload.gbcs_asn1`). The Grouping Header facts (the DCC originates CHF
commands for the user, with the user as Supplementary Remote Party and its counter) follow
the learned forms of the sibling use cases CCS02 and DBCH04.
"""

from __future__ import annotations

from typing import Any

#: The DCC entity that originates commands to the CHF on the user's behalf (as the learned
#: CCS02 and DBCH04 forms show: the Access Control Broker of the DCC).
DCC_SENDER = "90-B3-D5-1F-30-00-00-02"
#: xDLMS long-invoke-id-and-priority flags of a command (high priority), counter below.
_INVOKE_FLAGS = 0x20000000
#: Blue Book class 104 ZigBee Network Control, the CHF's instance (GBCS CCS01-CCS03).
ZIGBEE_NETWORK_CONTROL = (104, "0-0:30.3.0.255")
REGISTER_DEVICE = 1  # method 1 register_device (CCS02 is method 2 unregister_device)
#: GBCS class 1 Data object whose setting asks the CHF for a Sub GHz channel scan (DBCH05):
#: next to 0-0:94.44.10.0 (configuration, DBCH03/04), .2 (channel, DBCH01), .3 (log, DBCH02).
SUB_GHZ_CHANNEL_SCAN = (1, "0-0:94.44.10.1")
#: X.509 KeyUsage of GBCS's key-usage BIT STRING (first octet, 7 unused bits after
#: digitalSignature, 3 after keyAgreement), by DUIS CredentialType.
KEY_USAGE = {"Digital Signature": ("80", 7), "Key Agreement": ("08", 3)}


def _access_request(spec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {"@type": "access-request", "long_invoke_id_and_priority": _INVOKE_FLAGS,
            "date_time": "", "access_request_list_of_specification": [spec],
            "access_request_list_of_data": [data]}


def _from_dcc(raw: dict[str, Any]) -> dict[str, Any]:
    """A CHF command the DCC originates for the user (GBCS §7.2.7 supplementary remote party)."""
    return {**raw, "devices": ["CHF"], "sender": DCC_SENDER, "remote_party_counter": True,
            "dating": "immediate", "exact": True, "learned": True, "roles": [2, 3],
            "bind": [[["long_invoke_id_and_priority"], "@counter", "invoke-id"], *raw["bind"]]}


def add_device_to_device_log() -> dict[str, Any]:
    """CCS01 Add Device to CHF device log (SRV 8.11 RequestType Add, non-critical): an action
    on ZigBee Network Control method 1 register_device with the three parameters GBCS names
    (ieee_address, key, join_timeout), as a structure of octet-string (the device ID), octet-
    string (the DUIS InstallCode as given, without a CRC) and long-unsigned (JoinTimePeriod,
    seconds: DUIS allows 1-3600). The parameter order and types are not confirmed from GBCS's
    table here: they follow the parameter names of the GBCS use case and the CCS02 sibling
    (method 2 with the bare device ID, learned)."""
    method = {"@type": "access-request-action",
              "cosem_method_descriptor": {"@type": "cosem-method-descriptor",
                                          "class_id": ZIGBEE_NETWORK_CONTROL[0],
                                          "instance_id": ZIGBEE_NETWORK_CONTROL[1],
                                          "method_id": REGISTER_DEVICE}}
    data = {"@type": "structure", "elements": [
        {"@type": "octet-string", "value": "00" * 8},
        {"@type": "octet-string", "value": "00" * 16},
        {"@type": "long-unsigned", "value": 0}]}
    whitelist = "AddDeviceToCHFWhitelist"
    at = ["access_request_list_of_data", 0, "elements"]
    return _from_dcc({
        "name": "CCS01 8.11 AUTHORED", "use_case": "CCS01", "srv": "8.11", "message_code": "0001",
        "when": {"RequestType": "Add"},
        "paths": ["DeviceID", "RequestType", f"{whitelist}/JoinTimePeriod",
                  f"{whitelist}/InstallCode"],
        "payload": _access_request(method, data),
        "bind": [[[*at, 0, "value"], "DeviceID", "eui-hex"],
                 [[*at, 1, "value"], f"{whitelist}/InstallCode", "hex"],
                 [[*at, 2, "value"], f"{whitelist}/JoinTimePeriod", "int"]],
    })


def request_channel_scan() -> dict[str, Any]:
    """DBCH05 Request CHF Sub GHz Channel Scan (SRV 6.29, non-critical): GBCS says the CHF
    scans whenever "the corresponding DLMS COSEM attribute is set", so a set of attribute 2
    of a class 1 Data object, to TRUE (0xFF). The object (`0-0:94.44.10.1`, between the sub GHz
    configuration and channel objects the learned DBCH01-04 use) and the boolean are not
    confirmed from GBCS's table here."""
    attribute = {"@type": "access-request-set",
                 "cosem_attribute_descriptor": {"@type": "cosem-attribute-descriptor",
                                                "class_id": SUB_GHZ_CHANNEL_SCAN[0],
                                                "instance_id": SUB_GHZ_CHANNEL_SCAN[1],
                                                "attribute_id": 2}}
    return _from_dcc({
        "name": "DBCH05 6.29 AUTHORED", "use_case": "DBCH05", "srv": "6.29",
        "message_code": "010E", "paths": [],
        "payload": _access_request(attribute, {"@type": "boolean", "value": 0xFF}),
        "bind": [],
    })


def _activate_firmware(dating: str) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [
        {"@type": "OCTET STRING", "name": "manufacturerImageHash", "value": "00" * 32},
        {"@type": "INTEGER", "name": "originatorCounter", "value": 0}]
    bind: list[list[Any]] = [[["elements", 0, "value"], "FirmwareHash", "hex"],
                             [["elements", 1, "value"], "@counter", "int"]]
    paths = ["FirmwareHash"]
    if dating != "immediate":
        elements.append({"@type": "GeneralizedTime", "name": "executionDateTime",
                         "value": "20000101000000Z"})
        bind.append([["elements", 2, "value"], "ExecutionDateTime", "asn1-time"])
        paths.append("ExecutionDateTime")
    return {
        "name": f"CS06 11.3 {dating.upper()} AUTHORED", "use_case": "CS06", "srv": "11.3",
        "message_code": "0012", "devices": [], "dating": dating, "exact": True,
        "learned": True, "paths": paths, "roles": [2],
        "payload": {"@type": "SEQUENCE", "name": "ActivateFirmwareCommand",
                    "elements": elements},
        "bind": bind,
    }


def activate_firmware() -> list[dict[str, Any]]:
    """CS06 Activate Firmware (SRV 11.3, critical, any device type): GBCS's
    ActivateFirmwareCommand {manufacturerImageHash, originatorCounter, executionDateTime
    OPTIONAL}: the DUIS FirmwareHash, the command's own Originator Counter (so the device's
    future-dated alert can name it), and, when the request is future-dated, its
    ExecutionDateTime as GeneralizedTime. A cancellation (DUIS 3000-12-31T00:00:00Z) carries
    executionDateTime 9999-12-31T23:59:59Z, as the RTDS CS02b cancellation (the other ASN.1
    future-dated use case) does; not confirmed for CS06 itself."""
    return [_activate_firmware(d) for d in ("immediate", "future", "cancel")]


def issue_security_credentials() -> list[dict[str, Any]]:
    """CS02c Issue Security Credentials (SRV 6.17, critical, any device type): GBCS's
    IssueSecurityCredentialsCommand {keyUsage}, the key usage the DUIS CredentialType names;
    the same structure as the learned CS02e ProvideDeviceCertificateCommand. One form per
    CredentialType word."""
    out = []
    for word, (octets, unused) in KEY_USAGE.items():
        out.append({
            "name": f"CS02c 6.17 {word.replace(' ', '')} AUTHORED", "use_case": "CS02c",
            "srv": "6.17", "message_code": "000A", "devices": [], "dating": "immediate",
            "exact": True, "learned": True, "paths": ["CredentialType"], "roles": [2],
            "when": {"CredentialType": word},
            "payload": {"@type": "SEQUENCE", "name": "IssueSecurityCredentialsCommand",
                        "elements": [{"@type": "BIT STRING", "name": "keyUsage",
                                      "unused_bits": unused, "octets": octets}]},
            "bind": [],
        })
    return out


def forms() -> list[dict[str, Any]]:
    """The authored forms of this family, as raw table data (`tables._form`)."""
    return [add_device_to_device_log(), request_channel_scan(), *activate_firmware(),
            *issue_security_credentials()]
