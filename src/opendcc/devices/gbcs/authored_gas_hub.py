"""Gas, hub and device-independent use cases that have no RTDS vector: their arguments and
Response structures written from GBCS, as the DCC's authored command forms
(`core.transform.authored.gas` / `hub`) send them.

Tables merged into the general ones by one-line hooks, as `authored_electricity` does:

- `ARGUMENTS` (into `arguments.arguments`): CCS01 the device to whitelist, its install code
  and join timeout (ZigBee Network Control register_device); GCS40a/b the prepayment-mode
  Credit Adjustment; GCS25a the billing period start and periodicity; CS06 the firmware hash;
  CS02c the key usage.
- `PAYLOAD_VALUES` (into `values.PAYLOAD_VALUES`): CS02c's certification request for the new
  key.
- `future_dated_alerts` (into `endpoint._alert`): CS06's ActivateFirmwareAlert (0x00CA) when a
  held activation has run.
- `response_form` (into `forms.form_for`): the Response of each of these commands where no
  RTDS vector shows it. CCS01 and DBCH05 (DLMS action / set) need none: `forms.built_form`
  answers them. GCS39: Metering Supply Status Response (SE 1.4: Change Supply with
  "acknowledge required"). GCS40a/b and GCS25a: the learned Response of the sibling use case
  (GCS40c, GCS25), else a ZCL Default Response per component. CS06: GBCS's
  ActivateFirmwareResponse: executionOutcome {responseCode, firmwareVersion} when run at once,
  commandAccepted when held or cancelled. CS02c: IssueSecurityCredentialsResponse: the
  certification request, or a responseCode on refusal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from opendcc.devices.device import DeviceType
from opendcc.devices.errors import InvalidArgument
from opendcc.devices.events import FUTURE_DATED_EXECUTION
from opendcc.devices.gbcs.arguments import (
    CommandContext,
    credit_adjustment,
    dlms_action,
    eui,
    named,
    zcl_fields,
)
from opendcc.devices.gbcs.templates import ResponseForm, shape_key
from opendcc.devices.gsme import BillingCalendar
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.payloads import (
    ASN1,
    decode_payload,
    encode_payload,
    payload_from_json,
    payload_json,
)

if TYPE_CHECKING:
    from opendcc.devices.gbcs.values import FillContext

#: Blue Book class 104 ZigBee Network Control, the CHF's instance, method 1 register_device.
ZIGBEE_NETWORK_CONTROL = "0-0:30.3.0.255"
REGISTER_DEVICE = 1
#: SE 1.4 Credit Adjustment Types of the prepayment-mode meter balance (GCS40a/b).
CREDIT_INCREMENTAL, CREDIT_ABSOLUTE = 0, 1
#: ZSE billing period (duration, duration type) -> DUIS Periodicity (the inverse of the
#: authored GCS25a command form's table).
PERIODICITIES = {(1, 0x21): "Daily", (1, 0x22): "Weekly", (1, 0x23): "Monthly",
                 (3, 0x23): "Quarterly", (6, 0x23): "SixMonthly", (12, 0x23): "Yearly"}
_ZIGBEE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: X.509 KeyUsage first octet: digitalSignature, keyAgreement.
_DIGITAL_SIGNATURE, _KEY_AGREEMENT = 0x80, 0x08

#: ZCL: frame control of a cluster-specific server -> client command with default response
#: disabled (as RTDS GCS02's Change Payment Mode Response), of a general command server ->
#: client (Default Response, as RTDS GCS40c), the Default Response command id, SUCCESS and
#: FAILURE status, Metering's Supply Status Response and Supply OFF/ARMED.
_SPECIFIC_RESPONSE, _GENERAL_RESPONSE, _DEFAULT_RESPONSE = 0x19, 0x08, 0x0B
_ZCL_SUCCESS, _ZCL_FAILURE = 0x00, 0x01
_SUPPLY_STATUS_RESPONSE, _SUPPLY_ARMED = 0x0C, 0x01
#: GBCS ASN.1 responseCode of a refused CS06 / CS02c (GBCS gives no table here: "other").
_REFUSED = 127
#: Use cases every device type serves (GBCS: firmware activation and credentials issue on
#: ESME, GSME, CHF, GPF, PPMID, ...), though `use_cases.py` gives each one device type.
ANY_DEVICE_TYPE = ("CS06", "CS02c")
#: The sibling use case whose learned Response a use case without vectors takes.
SIBLINGS = {"GCS40a": "GCS40c", "GCS40b": "GCS40d", "GCS25a": "GCS25"}


# --- arguments ----------------------------------------------------------------------------------

def _leaves(node: Any) -> list[dict[str, Any]]:
    """The A-XDR leaves of a structure (or array of structures), in order."""
    if isinstance(node, dict) and isinstance(node.get("elements"), list):
        return [leaf for e in node["elements"] for leaf in _leaves(e)]
    return [node] if isinstance(node, dict) else []


def _register_device(ctx: CommandContext) -> dict[str, Any]:
    """CCS01: register_device {ieee_address, key (install code), join_timeout (seconds)}, read
    by type rather than position (the 8-octet ID, the other octet-string, the integer), so a
    structure GBCS orders or nests differently is read the same."""
    node: Any = dlms_action(ctx.view, 104, ZIGBEE_NETWORK_CONTROL, REGISTER_DEVICE)
    octets = [str(n.get("value", "")) for n in _leaves(node) if n.get("@type") == "octet-string"]
    numbers = [int(n["value"]) for n in _leaves(node) if isinstance(n.get("value"), int)
               and n.get("@type") in ("long-unsigned", "unsigned", "double-long-unsigned")]
    ids = [o for o in octets if len(o) == 16]
    codes = [o for o in octets if o not in ids[:1]]
    if not ids or not codes or not numbers:
        raise InvalidArgument("register_device is not {ieee_address, key, join_timeout}")
    try:
        device, install_code, seconds = eui(ids[0]), bytes.fromhex(codes[0]), numbers[0]
    except ValueError:
        raise InvalidArgument("register_device carries no device ID and install code") from None
    if not 0 < seconds <= 3600:
        raise InvalidArgument(f"join timeout {seconds} s is outside 1-3600")
    known = ctx.lookup(device)
    kind = known.kind if known is not None else DeviceType.IHD
    return {"device": device, "device_type": kind, "install_code": install_code,
            "join_timeout": timedelta(seconds=seconds)}


def _prepayment_adjustment(ctx: CommandContext) -> dict[str, Any]:
    """GCS40a/b: Credit Adjustment of the prepayment-mode balance, by an amount (incremental)
    or to a value (absolute: 0 for a reset), in the units GCS40c uses."""
    return credit_adjustment(ctx, absolute=CREDIT_ABSOLUTE, incremental=CREDIT_INCREMENTAL,
                             balance="prepayment-mode balance")


def _billing_calendar(ctx: CommandContext) -> dict[str, Any]:
    """GCS25a: Publish Billing Period start, duration and duration type."""
    fields = zcl_fields(ctx.view, "price/publish-billing-period")
    # the duration type's timebase (low nibble) and the period decide; the control nibble
    # (start / end of the timebase, not specified) does not change the periodicity
    kind = fields.get("billing_period_duration_type")
    period = (fields.get("billing_period_duration"), (kind & 0x0F) | 0x20 if isinstance(kind, int)
              else None)
    word = next((w for key, w in PERIODICITIES.items() if key == period), None)
    start = fields.get("billing_period_start_time")
    if word is None or not isinstance(start, int):
        raise InvalidArgument("the billing period is not one of GBCS's periodicities")
    return {"calendar": BillingCalendar(_ZIGBEE_EPOCH + timedelta(seconds=start), word)}


def _firmware_hash(ctx: CommandContext) -> dict[str, Any]:
    """CS06: the manufacturer image hash of the firmware to activate."""
    image = next(named(ctx.view, "manufacturerImageHash"), None) or next(
        (e.get("value") for e in _asn1_nodes(ctx.view)
         if e.get("@type") == "OCTET STRING" and len(str(e.get("value", ""))) == 64), None)
    if not isinstance(image, str):
        raise InvalidArgument("the command names no firmware image hash")
    return {"image_hash": bytes.fromhex(image)}


def _asn1_nodes(view: Any) -> list[dict[str, Any]]:
    """Every node of an ASN.1 payload view, depth first."""
    if not isinstance(view, dict):
        return []
    return [view, *(n for e in view.get("elements", []) or [] for n in _asn1_nodes(e))]


def _key_usage_bits(view: Any) -> int:
    """The first octet of the command's keyUsage BIT STRING (by name, else the first one)."""
    strings = [n for n in _asn1_nodes(view) if n.get("@type") == "BIT STRING"]
    for node in [n for n in strings if n.get("name") == "keyUsage"] or strings:
        return int(str(node.get("octets", "00"))[:2] or "0", 16)
    return 0


def _key_usage(ctx: CommandContext) -> dict[str, Any]:
    """CS02c: the key usage of the credentials to issue (digital signature or key agreement)."""
    bits = _key_usage_bits(ctx.view)
    usage = {_DIGITAL_SIGNATURE: "ds", _KEY_AGREEMENT: "ka"}.get(bits)
    if usage is None:
        raise InvalidArgument(f"key usage {bits:#04x} is neither digitalSignature nor keyAgreement")
    return {"key_usage": usage}


ARGUMENTS: dict[str, Callable[[CommandContext], dict[str, Any]]] = {
    "CCS01": _register_device,
    "GCS40a": _prepayment_adjustment,
    "GCS40b": _prepayment_adjustment,
    "GCS25a": _billing_calendar,
    "CS06": _firmware_hash,
    "CS02c": _key_usage,
}


# --- values -------------------------------------------------------------------------------------

def new_credentials_key(device: Any, usage: str) -> ec.EllipticCurvePrivateKey:
    """The key pair a device makes for CS02c: derived from its ID and the key usage, so that
    the emulation stays deterministic (a real device draws it from its random source)."""
    digest = hashlib.sha256(b"opendcc CS02c " + bytes(device.eui) + usage.encode()).digest()
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(digest, "big") % (order - 1) + 1, ec.SECP256R1())


def _certification_request(ctx: FillContext, view: Any) -> Any:
    """CS02c: a PKCS #10 certification request for the new key (self-signed by it, naming no
    subject: SMKI Device CAs name the device in the certificate they issue)."""
    usage = "ka" if _key_usage_bits(ctx.command) == _KEY_AGREEMENT else "ds"
    key = new_credentials_key(ctx.device, usage)
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])) \
        .sign(key, hashes.SHA256())
    return payload_json(decode_payload(ASN1, request.public_bytes(Encoding.DER),
                                       use_case=ctx.use_case))


PAYLOAD_VALUES: dict[str, Callable[[FillContext, Any], Any]] = {
    "CS02c": _certification_request,
}


# --- Response structures -----------------------------------------------------------------------

def default_responses(command_view: Any, status: int, *, frame_control: int = _GENERAL_RESPONSE,
                      header_control: int = 1) -> dict[str, Any]:
    """A ZCL Default Response for each component of a GBZ command (GBCS §7.5), with this
    frame control; `header_control` stands in for a component without its own."""
    components = []
    for component in command_view.get("components", []):
        frame = component.get("zcl_frame", {})
        components.append({
            "@type": "gbz-component",
            "extended_header_control_field": component.get("extended_header_control_field",
                                                           header_control),
            "extended_header_cluster_id": component.get("extended_header_cluster_id", 0),
            "zcl_frame": {"@type": "zcl-frame", "frame_control": frame_control,
                          "transaction_sequence_number": frame.get("transaction_sequence_number", 0),
                          "command_identifier": _DEFAULT_RESPONSE,
                          "payload": {"@type": "default-response",
                                      "command_identifier": frame.get("command_identifier", 0),
                                      "status_code": status}}})
    return {"@type": "gbz-payload", "components": components}


def _supply_status(command_view: Any) -> dict[str, Any]:
    """GCS39: Supply Status Response (SE 1.4 Metering 0x0C) echoing the Change Supply's
    provider and issuer event id, implemented at once, supply OFF/ARMED."""
    [component] = command_view.get("components", [])[:1] or [{}]
    sent = component.get("zcl_frame", {}).get("payload", {}).get("fields", {})
    return {"@type": "gbz-payload", "components": [{
        "@type": "gbz-component", "extended_header_control_field": 1,
        "extended_header_cluster_id": component.get("extended_header_cluster_id", 0x0702),
        "zcl_frame": {"@type": "zcl-frame", "frame_control": _SPECIFIC_RESPONSE,
                      "transaction_sequence_number": 0,
                      "command_identifier": _SUPPLY_STATUS_RESPONSE,
                      "payload": {"@type": "cluster-command",
                                  "command": "metering/supply-status-response",
                                  "fields": {"provider_id": sent.get("provider_id", 0),
                                             "issuer_event_id": sent.get("issuer_event_id", 0),
                                             "implementation_date_time": 0,
                                             "supply_status": _SUPPLY_ARMED}}}}]}


def _asn1_int(name: str, value: int) -> dict[str, Any]:
    return {"@type": "INTEGER", "name": name, "value": value}


def _activation(command_view: Any, success: bool) -> dict[str, Any]:
    """CS06: commandAccepted when the command is held or cancels (it carries an
    executionDateTime), else the outcome with the running firmware version."""
    held = any(e.get("name") == "executionDateTime"
               for e in command_view.get("elements", []) if isinstance(e, dict))
    if held and success:
        return {"@type": "NULL", "name": "commandAccepted"}
    return {"@type": "SEQUENCE", "name": "executionOutcome", "elements": [
        _asn1_int("responseCode", 0 if success else _REFUSED),
        {"@type": "OCTET STRING", "name": "firmwareVersion", "value": ""}]}


def _credentials(success: bool) -> dict[str, Any]:
    """CS02c: the certification request (filled by `PAYLOAD_VALUES`), or a refusal code."""
    if success:
        return {"@type": "SEQUENCE", "name": "certificationRequest", "elements": []}
    return _asn1_int("responseCode", _REFUSED)


def response_form(use_case: str, command_view: Any, *, success: bool,
                  critical: bool) -> ResponseForm | None:
    """The Response of a gas, hub or device-independent command without RTDS vectors (see the
    module docstring); None for any other use case."""
    if not isinstance(command_view, dict):
        return None
    dated = False
    if use_case == "GCS39":
        payload = _supply_status(command_view) if success else \
            default_responses(command_view, _ZCL_FAILURE)
    elif use_case in SIBLINGS:
        sibling = _sibling_form(SIBLINGS[use_case], success)
        if sibling is not None:
            return ResponseForm(use_case, shape_key(command_view), sibling.success, critical,
                                sibling.dated, sibling.payload)
        payload = default_responses(command_view, _ZCL_SUCCESS if success else _ZCL_FAILURE)
    elif use_case == "CS06":
        payload, dated = _activation(command_view, success), True
    elif use_case == "CS02c":
        payload = _credentials(success)
    else:
        return None
    return ResponseForm(use_case, shape_key(command_view), success, critical, dated, payload)


# --- future-dated alert ---------------------------------------------------------------------------

#: GBCS message codes: CS06 Activate Firmware, and its future-dated alert (FDA-CS06).
CS06_MESSAGE_CODE, FDA_CS06 = 0x0012, 0x00CA


def future_dated_alerts(device: Any, held: Any, executed_at: datetime,
                        next_counter: Callable[[], int]) -> list[GeneralSigning]:
    """GBCS §11.5 / §7.2.10: when a held CS06 has run, the device's ActivateFirmwareAlert
    {alertCode 0x8F66, executionDateTime, the command's originatorCounter, executionOutcome
    (success, the firmware now running)} to the command's originator, message code 0x00CA;
    signed by the caller. Other held commands: none here (`alerts.py` covers DLMS and GBZ)."""
    if held.message_code != CS06_MESSAGE_CODE:
        return []
    view = {"@type": "SEQUENCE", "name": "ActivateFirmwareAlert", "elements": [
        _asn1_int("alertCode", FUTURE_DATED_EXECUTION),
        {"@type": "GeneralizedTime", "name": "executionDateTime",
         "value": executed_at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")},
        _asn1_int("originatorCounter", held.originator_counter),
        {"@type": "SEQUENCE", "name": "executionOutcome", "elements": [
            _asn1_int("responseCode", 0),
            {"@type": "OCTET STRING", "name": "firmwareVersion",
             "value": device.firmware.version.encode().hex()}]}]}
    payload = payload_from_json(view)
    content = encode_payload(payload) if payload is not None else b""
    return [GeneralSigning(CraFlag.ALERT, next_counter(), device.eui, held.originator, None,
                           OtherInformation(FDA_CS06), content, bytes(64))]


def _sibling_form(use_case: str, success: bool) -> ResponseForm | None:
    """The sibling use case's learned Response with that outcome, if the vectors show one."""
    from opendcc.devices.gbcs.forms import forms  # forms.py hooks this module in

    rows = [r for r in forms().get(use_case, ()) if r.success == success]
    return rows[0] if rows else None
