"""Routing device commands over the SM WAN to emulated SMETS2 devices, and answers back.

DUIS 5.4 §3.2 (Command Variants 1, 3, 5, 7): the DCC sends the GBCS Command over the SM WAN to
the device's Communications Hub, which passes it on the HAN; the device's GBCS Response comes
back and reaches the user as an `sr:Response` whose `ResponseMessage/GBCSPayload` carries it
(ResponseCode I0). When the WAN gives up at the response deadline the user gets the code the
WAN reports (`devices.wan`: E20 "unable to communicate with the device", E21 "no response
received"). A command the device discards (authentication, counter, not on the HAN whitelist)
has no Response: the user gets E21 or E20 at the deadline, as a real DCC would see it.

Future-dated commands (sr:ExecutionDateTime) follow the SRV's Future Dated Response Pattern
(DUIS 5.4 §3.2, the SRV catalogue). "Device": the DCC sends the command at once; the device
checks it and answers at once (that Response reaches the user as for an on-demand command),
holds it and runs it at the execution time by its own clock, then raises the future-dated
execution alert 8F66 for each instruction it carried out; the DCC gives each to the user as a
`FutureDatedDeviceAlertMessage` under the request's RequestID (DUIS 5.4 §3.5). "DSP": the DCC
holds the request and sends it at the execution time; the device's Response is delivered then.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from opendcc.core.alerts import device_alert_message
from opendcc.core.commissioning import DeviceEffect
from opendcc.core.scheduler import Scheduler
from opendcc.devices.errors import (
    DeviceError,
    NotAuthorised,
    NotJoined,
    NotOnWhitelist,
    ReplayedCounter,
)
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import CommandDiscarded, DeviceGbcsEndpoint
from opendcc.devices.gbcs.alerts import HeldCommand
from opendcc.devices.gbcs.endpoint import Answer
from opendcc.devices.wan import Delivery, DeliveryStatus
from opendcc.duis.response import build_response, payload_element
from opendcc.duis.response_codes import ResponseCode
from opendcc.gbcs import codec
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.payloads import payload_json
from opendcc.ids import EUI64, RequestID

_log = logging.getLogger(__name__)

Deliver = Callable[[EUI64, etree._Element], object]

#: The DUIS code for a command a device never answered, by what stopped it (DUIS 5.4 §3.5):
#: the hub could not pass it on the HAN (E20), or the device discarded it silently (E21).
CODE_FOR_DEVICE_ERROR: Final[dict[type[DeviceError], ResponseCode]] = {
    NotOnWhitelist: ResponseCode.E20,
    NotJoined: ResponseCode.E20,
    NotAuthorised: ResponseCode.E21,
    ReplayedCounter: ResponseCode.E21,
}
FUTURE_DATED_OUTCOME: Final = "8F66"
#: DUIS: an ExecutionDateTime of 3000-12-31T00:00:00Z cancels a held future-dated command; the
#: cancellation itself runs at once.
CANCELLATION: Final = datetime(3000, 12, 31, tzinfo=UTC)


def execution_time(requested: datetime | None) -> datetime | None:
    """When the device is to execute a command: None for at once (incl. cancellations)."""
    return None if requested is None or requested >= CANCELLATION else requested


@dataclass(frozen=True, slots=True)
class RoutedCommand:
    """What the DCC keeps of a device SRV in flight, to answer the user when the device does."""

    request_id: RequestID
    service_reference: str
    variant: str
    execute_at: datetime | None = None
    schedule_id: int | None = None  # a run of a DCC schedule (SRV 5.1)
    #: The inventory change the device's carrying it out makes (8.11, 8.1.1, 8.7).
    effect: DeviceEffect | None = None
    #: A future-dated command of an SRV whose Future Dated Response Pattern is "Device": sent
    #: at once, held by the device, its execution reported by alert 8F66.
    held_by_device: bool = False

    @property
    def user(self) -> EUI64:
        """The user the answer is for: the request's originator."""
        return self.request_id.originator

    @property
    def device(self) -> str:
        """The device the command is for."""
        return self.request_id.target.hyphenated


@dataclass
class RoutingCounts:
    """What the router has done (for tests, metrics and the benchmark)."""

    sent: int = 0
    answered: int = 0
    failed: int = 0
    #: The last command a device did not answer: (RequestID, why).
    last_refusal: tuple[str, str] | None = None
    #: Future-dated execution alerts delivered as FutureDatedDeviceAlertMessage.
    future_dated_alerts: int = 0


@dataclass
class _Held:
    """A future-dated command a device accepted and holds: what its 8F66 alerts answer."""

    routed: RoutedCommand
    originator: EUI64
    counter: int
    instructions: int
    reported: int = 0


class WanRouter:
    """GBCS Commands to the emulated estate over the simulated WAN; DUIS answers to `deliver`."""

    def __init__(self, estate: Estate, endpoint: DeviceGbcsEndpoint, clock: Scheduler,
                 deliver: Deliver | None = None) -> None:
        self.estate = estate
        self.endpoint = endpoint
        self.clock = clock
        self.deliver: Deliver = deliver or _nowhere
        self.counts = RoutingCounts()
        #: Called with a command whose `effect` the device carried out, before its answer
        #: goes to the user (`DeviceSide.follow_inventory`: the inventory follows the device).
        self.on_effect: Callable[[RoutedCommand], object] | None = None
        #: Future-dated commands devices hold, by device: what their 8F66 alerts answer.
        self._held: dict[str, list[_Held]] = {}

    def send(self, command: bytes, routed: RoutedCommand) -> None:
        """DUIS 5.4 §3.2: send one Command; its answer reaches `deliver` later, on the clock."""
        self.counts.sent += 1
        now = self.clock.now()
        self.endpoint.alert_sink = self._device_alert  # alerts of commands devices held
        if routed.held_by_device and routed.execute_at is not None:
            self._over_wan(command, routed)
        elif routed.execute_at is not None and routed.execute_at > now:
            wait = (routed.execute_at - now).total_seconds()
            self.clock.call_later(wait, lambda: self._over_wan(command, routed))
        else:
            self._over_wan(command, routed)

    def _over_wan(self, command: bytes, routed: RoutedCommand) -> None:
        if routed.device not in self.estate:
            # In the inventory but not in the emulated estate: nothing answers.
            self.clock.call_later(0.0, lambda: self._fail(routed, ResponseCode.E20))
            return

        def at_device(_device: object, _at: datetime) -> Answer:
            try:
                return self.endpoint.answer(command)
            except DeviceError:
                raise
            except Exception as exc:  # a fault of the emulation must not stop the clock
                _log.exception("device %s failed on %s", routed.device, routed.request_id)
                raise CommandDiscarded(f"{type(exc).__name__}: {exc}") from exc

        self.estate.send(routed.device, at_device,
                         on_done=lambda d: self._done(d, routed, command))

    def _done(self, delivery: Delivery[Answer], routed: RoutedCommand,
              command: bytes | None = None) -> None:
        if delivery.status is DeliveryStatus.TIMED_OUT:
            self._fail(routed, ResponseCode(delivery.duis_response_code or "E21"))
            return
        if delivery.error is not None or delivery.response is None:
            error = delivery.error
            code = CODE_FOR_DEVICE_ERROR.get(type(error), ResponseCode.E21) if error else \
                ResponseCode.E21
            _log.info("device %s did not answer %s: %s", routed.device, routed.request_id, error)
            self.counts.last_refusal = (str(routed.request_id), f"{type(error).__name__}: {error}")
            self._fail(routed, code)
            return
        now = self.clock.now()
        self.counts.answered += 1
        response, *alerts = delivery.response.messages
        if delivery.response.executed and command is not None:
            self._expect_alerts(routed, delivery.response, command)
        if routed.effect is not None and delivery.response.executed and self.on_effect:
            self.on_effect(routed)
        self.deliver(routed.user, device_response(routed, response, now))
        for gbcs in alerts:  # alerts the command caused, to the party each is addressed to
            apdu = codec.decode(gbcs).apdu
            self.deliver(apdu.recipient, device_alert_message(
                f"{apdu.message_code:04X}", gbcs,
                f"{apdu.originator}:{apdu.recipient}:{apdu.originator_counter}", now))

    def _expect_alerts(self, routed: RoutedCommand, answer: Answer, command: bytes) -> None:
        """Remember a future-dated command the device accepted and holds, with how many
        instructions its 8F66 alerts will report (one per activation it carries, GBCS §7.2.10).
        (A CV 5 request carries no ExecutionDateTime: the signed command's own date decides,
        so the emulation asks the device what it holds.) Entries for commands the device no
        longer holds (cancelled, or failed when they ran: no alert comes) are dropped here."""
        device = self.estate.device(answer.device)
        pending = device.pending()
        refs = {p.ref for p in pending}
        known = self._held.get(device.eui.hex)
        if known:
            kept = [h for h in known if f"{h.originator.hyphenated}:{h.counter}" in refs]
            if kept:
                self._held[device.eui.hex] = kept
            else:
                del self._held[device.eui.hex]
        if not pending:
            return
        frame = codec.decode_frame(command)
        head = frame.apdu if isinstance(frame, GeneralCiphering) else frame
        if f"{head.originator.hyphenated}:{head.originator_counter}" not in refs:
            return
        msg = codec.decode(command)
        apdu = msg.apdu
        targets = HeldCommand.from_view(apdu.originator, apdu.message_code,
                                        apdu.originator_counter, payload_json(msg.payload)).targets()
        self._held.setdefault(apdu.recipient.hex, []).append(
            _Held(routed, apdu.originator, apdu.originator_counter, max(1, len(targets))))

    def _device_alert(self, gbcs: bytes) -> None:
        """An alert a device raised outside a command (a held command ran): a 8F66 for a
        command the DCC sent goes to its user as FutureDatedDeviceAlertMessage (DUIS 5.4
        §3.5), anything else as a DeviceAlertMessage to the party it is addressed to."""
        now = self.clock.now()
        msg = codec.decode(gbcs)
        apdu = msg.apdu
        view = payload_json(msg.payload)
        code = _alert_code(view)
        held = self._match(apdu.originator.hex, apdu.recipient, _commanded_counter(view)) \
            if code in FUTURE_DATED_CODES else None
        if held is None:
            self.deliver(apdu.recipient, device_alert_message(
                code or f"{apdu.message_code:04X}", gbcs,
                f"{apdu.originator}:{apdu.recipient}:{apdu.originator_counter}", now))
            return
        held.reported += 1
        self.counts.future_dated_alerts += 1
        self.deliver(held.routed.user, future_dated_alert(held.routed, code or FUTURE_DATED_OUTCOME,
                                                          gbcs, held.reported,
                                                          max(held.instructions, held.reported),
                                                          now))

    def _match(self, device: str, originator: EUI64, counter: int | None) -> _Held | None:
        """The held command an 8F66 alert reports on: by the originator counter it names,
        else the earliest one from that originator; forgotten once every instruction has
        been reported."""
        pending = self._held.get(device, [])
        found = next((h for h in pending if h.originator == originator
                      and (counter is None or h.counter == counter)), None)
        if found is not None and found.reported + 1 >= found.instructions:
            pending.remove(found)
            if not pending:
                self._held.pop(device, None)
        return found

    def _fail(self, routed: RoutedCommand, code: ResponseCode) -> None:
        self.counts.failed += 1
        self.deliver(routed.user, build_response(
            str(routed.request_id), code, now=self.clock.now(),
            service_reference=routed.service_reference, variant=routed.variant,
            response_id=routed.request_id.response_id()))


def device_response(routed: RoutedCommand, gbcs: bytes, now: datetime) -> etree._Element:
    """DUIS 5.4 §3.5: the device's GBCS Response for the user, I0, RequestID of the request and
    ResponseID device:user:counter; a DCC-scheduled run's as DSPScheduledMessage. (The Response
    to a future-dated command is delivered like any other; its execution is reported later by
    `future_dated_alert`.)"""
    encoded = base64.b64encode(gbcs).decode("ascii")
    if routed.schedule_id is not None:
        payload = payload_element("DSPScheduledMessage")
        payload.append(payload_element("GBCSPayload", encoded))
        payload.append(payload_element("DSPScheduleID", str(routed.schedule_id)))
    else:
        payload = payload_element("GBCSPayload", encoded)
    return build_response(str(routed.request_id), ResponseCode.I0, now=now,
                          service_reference=routed.service_reference, variant=routed.variant,
                          payload=payload, response_id=routed.request_id.response_id())


def future_dated_alert(routed: RoutedCommand, alert_code: str, gbcs: bytes, instruction: int,
                       instructions: int, now: datetime) -> etree._Element:
    """DUIS 5.4 §3.5 FutureDatedDeviceAlertMessage: the device's future-dated execution alert
    (8F66) for one instruction of a held command, to the request's user under its RequestID."""
    payload = payload_element("FutureDatedDeviceAlertMessage")
    payload.append(payload_element("FutureDatedAlertCode", alert_code))
    payload.append(payload_element("GBCSPayload", base64.b64encode(gbcs).decode("ascii")))
    payload.append(payload_element("InstructionNumber", str(instruction)))
    payload.append(payload_element("TotalCommandInstructions", str(instructions)))
    return build_response(str(routed.request_id), ResponseCode.I0, now=now,
                          service_reference=routed.service_reference, variant=routed.variant,
                          payload=payload, response_id=routed.request_id.response_id())


#: The alert codes `FutureDatedDeviceAlertMessage` carries (DUIS 5.4 schema).
FUTURE_DATED_CODES: Final = frozenset({"8F66", "8F67"})


def _alert_code(view: object) -> str | None:
    """The alert code of a decoded device alert (GBZ alert, DLMS data-notification or ASN.1
    alert), as four hex digits."""
    found = _find(view, ("alert_code", "alertCode"))
    if isinstance(found, str) and found.lower().startswith("0x"):
        return found[2:].upper().rjust(4, "0")
    return f"{found:04X}" if isinstance(found, int) else None


def _commanded_counter(view: object) -> int | None:
    """The originator counter of the command a future-dated execution alert reports on
    (DLMS/GBZ future-dated alert payload; CS02b: authorisingRemotePartySeqNumber; CS06:
    originatorCounter)."""
    found = _find(view, ("originator_counter", "authorisingRemotePartySeqNumber",
                         "originatorCounter"))
    if isinstance(found, str) and found.isdigit():
        return int(found)
    return found if isinstance(found, int) else None


def _find(view: object, names: tuple[str, ...]) -> object:
    """The first value under one of `names` in a payload view (keys, `#` annotations, or an
    ASN.1 element's `name`), depth first."""
    if isinstance(view, dict):
        for name in names:
            if name in view:
                return view[name]
        if view.get("name") in names and "value" in view:
            return view["value"]
        children: list[object] = list(view.values())
    elif isinstance(view, list):
        children = list(view)
    else:
        return None
    for child in children:
        found = _find(child, names)
        if found is not None:
            return found
    return None


def _nowhere(user: EUI64, message: etree._Element) -> None:
    _log.warning("no delivery wired: a DUIS message for %s was dropped", user)
