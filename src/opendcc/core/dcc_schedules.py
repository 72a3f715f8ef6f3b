"""DCC-scheduled Service Requests kept in the store: SRV 5.1 / 5.2 / 5.3 and their runs.

DUIS 5.4 §3.2: a user asks the DCC (SRV 5.1 Create Schedule) to send an SRV, such as a
profile read, to a device at the times a schedule names; the DCC sends each run itself and
delivers the device's answer as a `DSPScheduledMessage`. `StoredDccSchedules` keeps each
schedule as a row of `dcc_schedules` (`opendcc.store.schedules`), so schedules outlive a
restart of `opendcc serve`:

- 5.1 inserts, 5.2 reads and 5.3 deletes on the request's own connection, inside the Data
  Service's one transaction per request: a schedule exists if and only if the request that
  created it was committed, and is gone if and only if the 5.3 was.
- Each run is claimed before it is sent (`store.schedules.claim_run`: `last_run_at` moves to
  the run's time in a transaction of its own, conditionally), so a run is sent at most once
  however many timers, processes or restarts see it due. The claim commits just before the
  command goes to the WAN; a crash in that instant, or while the command is in flight, loses
  that run's answer as it loses any command in flight (the WAN and the devices are in memory).
- On start (`load`) every schedule is armed at its next run: the run after `last_run_at`, or
  its first run if none was sent. Runs that fell due while the DCC was down are sent at once,
  each once, oldest first, each with its own date (so a daily read covers the days it would
  have covered). DUIS, as far as opendcc's sources say, gives no rule for runs missed while
  the DCC is down; this choice loses none and sends none twice. Runs stop at the
  ScheduleEndDate (the row is then deleted).

Timers are only wake-ups: the row decides. A timer whose schedule was deleted, or whose 5.1
rolled back, finds no row and stops.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from lxml import etree
from sqlalchemy.engine import Connection

from opendcc.core.device_layer import NoScheduleToRead, ScheduleUnknown, WanDeviceLayer
from opendcc.core.scheduler import (
    FREQUENCIES,
    Scheduler,
    dsp_body,
    first_run,
    schedule_end,
    schedule_start,
)
from opendcc.core.service import NonDeviceHandler
from opendcc.duis.request import SR, DuisRequest
from opendcc.duis.response import payload_element, success
from opendcc.duis.response_codes import DeviceUnknown
from opendcc.ids import EUI64
from opendcc.store import inventory as inventory_repo
from opendcc.store import schedules as repo
from opendcc.store.engine import Store
from opendcc.store.schedules import StoredSchedule

_log = logging.getLogger(__name__)

#: What sends one run: the schedule and the time the run is for.
Run = Callable[[StoredSchedule, datetime], None]


class StoredDccSchedules:
    """DUIS 5.4 §3.2 DCC schedules in the store, each run sent once on `clock`."""

    def __init__(self, store: Store, clock: Scheduler, run: Run) -> None:
        self.store = store
        self.clock = clock
        self.run = run
        self._lock = threading.Lock()
        # The run each schedule's live timer is for; a timer for any other run is stale.
        self._armed: dict[int, datetime] = {}
        # Schedules created here whose 5.1 may not have committed yet (monotonic time of
        # creation): a first run due within moments may find no row on PostgreSQL yet.
        self._fresh: dict[int, float] = {}

    def create(self, conn: Connection, *, owner: str, device_id: str, device_type: str,
               service_reference: str, service_reference_variant: str, frequency: str,
               start_at: datetime, end_at: datetime | None, dsp: etree._Element,
               details: etree._Element) -> int:
        """Store a schedule inside the caller's transaction and arm its first run (the start,
        or the first occurrence after now when the start has passed); its DSPScheduleID."""
        period = FREQUENCIES[frequency]
        now = self.clock.now()
        first = first_run(start_at, period, now)
        schedule_id = repo.add(
            conn, owner=owner, device_id=device_id, device_type=device_type,
            service_reference=service_reference,
            service_reference_variant=service_reference_variant, frequency=frequency,
            start_at=start_at, first_run_at=first, end_at=end_at, dsp_body=_xml(dsp),
            details=_xml(details), created_at=now)
        with self._lock:
            self._fresh[schedule_id] = self.clock.monotonic()
        self._arm(schedule_id, first)
        return schedule_id

    def of(self, conn: Connection, owner: str, *, device_id: str | None = None
           ) -> list[StoredSchedule]:
        """The schedules `owner` holds (for one device, if given), as the transaction sees them."""
        return repo.of_owner(conn, owner, device_id=device_id)

    def delete(self, conn: Connection, schedule_id: int) -> bool:
        """Delete a schedule inside the caller's transaction; its timer finds no row and stops."""
        return repo.remove(conn, schedule_id)

    def load(self) -> int:
        """Arm every stored schedule at its next run (at once if that is past); how many."""
        with self.store.begin() as conn:
            stored = repo.every(conn)
        armed = 0
        for schedule in stored:
            with self._lock:
                if schedule.schedule_id in self._armed:
                    continue
            self._arm(schedule.schedule_id, next_run(schedule))
            armed += 1
        return armed

    def _arm(self, schedule_id: int, at: datetime) -> None:
        with self._lock:
            self._armed[schedule_id] = at
        wait = max(0.0, (at - self.clock.now()).total_seconds())
        self.clock.call_later(wait, lambda: self._fire(schedule_id, at))

    def _fire(self, schedule_id: int, at: datetime) -> None:
        with self._lock:
            if self._armed.get(schedule_id) != at:
                return  # a stale timer: the schedule was re-armed for another run
            del self._armed[schedule_id]
        try:
            with self.store.begin() as conn:
                schedule = repo.get(conn, schedule_id)
                if schedule is None:
                    self._retry_if_fresh(schedule_id, at)  # else deleted by 5.3 or rolled back
                    return
                if schedule.end_at is not None and at >= schedule.end_at:
                    repo.remove(conn, schedule_id)  # past its end date
                    return
                claimed = repo.claim_run(conn, schedule_id, at)
        except Exception:  # the store failed: nothing was claimed, so try the same run again
            _log.exception("DCC schedule %s: the store failed at the run of %s; retrying",
                           schedule_id, at)
            with self._lock:
                self._armed[schedule_id] = at
            self.clock.call_later(_STORE_RETRY_SECONDS, lambda: self._fire(schedule_id, at))
            return
        with self._lock:
            self._fresh.pop(schedule_id, None)
        if claimed:
            try:
                self.run(schedule, at)
            except Exception:  # one failing run must not stop the schedule
                _log.exception("DCC schedule %s: the run at %s failed", schedule_id, at)
            self._arm(schedule_id, at + FREQUENCIES[schedule.frequency])
        else:  # another process (or timer) sent it: follow on from the last run sent
            last = schedule.last_run_at or at
            self._arm(schedule_id, max(at, last) + FREQUENCIES[schedule.frequency])

    def _retry_if_fresh(self, schedule_id: int, at: datetime) -> None:
        """A schedule created moments ago whose row is not visible: its 5.1 may still be
        committing (PostgreSQL; SQLite serialises writers), so look again shortly, for at most
        `_FRESH_SECONDS` after its creation; after that its 5.1 rolled back."""
        with self._lock:
            created = self._fresh.get(schedule_id)
            if created is None or self.clock.monotonic() - created > _FRESH_SECONDS:
                self._fresh.pop(schedule_id, None)
                return
            self._armed[schedule_id] = at
        self.clock.call_later(_RETRY_SECONDS, lambda: self._fire(schedule_id, at))


#: How long a new schedule's row may take to appear (its request's transaction committing).
_FRESH_SECONDS = 30.0
_RETRY_SECONDS = 0.5
#: How long to wait before trying a run again when the store failed.
_STORE_RETRY_SECONDS = 30.0


def next_run(schedule: StoredSchedule) -> datetime:
    """The run of `schedule` to send next: the one after the last sent, else the first."""
    if schedule.last_run_at is None:
        return schedule.first_run_at
    return schedule.last_run_at + FREQUENCIES[schedule.frequency]


class ScheduleRequests:
    """SRV 5.1 / 5.2 / 5.3 answered from `StoredDccSchedules`, the runs sent by a
    `WanDeviceLayer` (Transform, WAN, device; answer as DSPScheduledMessage)."""

    def __init__(self, layer: WanDeviceLayer, store: Store) -> None:
        self.layer = layer
        self.schedules = StoredDccSchedules(store, layer.router.clock, self._run)

    @property
    def handlers(self) -> dict[str, NonDeviceHandler]:
        """The non-device handlers for 5.1, 5.2 and 5.3."""
        return {"5.1": self.create, "5.2": self.read, "5.3": self.delete}

    def create(self, conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
        """SRV 5.1 Create Schedule: store it and answer its DSPScheduleID."""
        body = request.body
        device_id = EUI64.parse(_field(body, "DeviceID"))
        device = inventory_repo.get_device(conn, device_id)
        if device is None:
            raise DeviceUnknown(f"no device {device_id} in the Smart Metering Inventory")
        schedule_id = self.schedules.create(
            conn, owner=request.request_id.originator.hyphenated,
            device_id=device_id.hyphenated, device_type=device.device_type.value,
            service_reference=_field(body, "DSPScheduledServiceReference"),
            service_reference_variant=_field(body, "DSPScheduledServiceReferenceVariant"),
            frequency=_field(body, "ScheduleFrequency"), start_at=schedule_start(body),
            end_at=schedule_end(body), dsp=dsp_body(body), details=body)
        return success(request, now, payload_element("DSPScheduleID", str(schedule_id)))

    def read(self, conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
        """SRV 5.2 Read Schedule: the selected schedules with what was asked for each."""
        read = payload_element("DSPSchedulesRead")
        for schedule in self._selected(conn, request, NoScheduleToRead)[:99]:
            entry = etree.SubElement(read, f"{{{SR}}}DSPSchedules")
            etree.SubElement(entry, f"{{{SR}}}DSPScheduleID").text = str(schedule.schedule_id)
            details = etree.SubElement(entry, f"{{{SR}}}DSPScheduleDetails")
            details.extend(list(etree.fromstring(schedule.details.encode())))
        return success(request, now, read)

    def delete(self, conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
        """SRV 5.3 Delete Schedule: by DSPScheduleID, or every schedule of the user for a device."""
        for schedule in self._selected(conn, request, ScheduleUnknown):
            self.schedules.delete(conn, schedule.schedule_id)
        return success(request, now)

    def _selected(self, conn: Connection, request: DuisRequest,
                  missing: type[ScheduleUnknown]) -> list[StoredSchedule]:
        """The user's schedules a 5.2 / 5.3 body selects: by DSPScheduleID, else by DeviceID."""
        user = request.request_id.originator.hyphenated
        wanted = (request.body.findtext(f"{{{SR}}}DSPScheduleID") or "").strip()
        device = (request.body.findtext(f"{{{SR}}}DeviceID") or "").strip()
        if wanted:  # xs:nonNegativeInteger: "042" is 42
            schedule = repo.get(conn, int(wanted)) if wanted.isdigit() else None
            found = [schedule] if schedule is not None and schedule.owner == user else []
        else:
            found = self.schedules.of(conn, user, device_id=_hyphenated(device))
        if not found:
            raise missing(f"{user} holds no DCC schedule {wanted or 'for ' + device}")
        return found

    def _run(self, schedule: StoredSchedule, at: datetime) -> None:
        self.layer._run_scheduled(
            schedule.schedule_id, EUI64.parse(schedule.owner), EUI64.parse(schedule.device_id),
            schedule.device_type, schedule.service_reference, schedule.service_reference_variant,
            etree.fromstring(schedule.dsp_body.encode()), at)


def attach_stored_schedules(layer: WanDeviceLayer, store: Store) -> ScheduleRequests:
    """Let `layer` answer 5.1 / 5.2 / 5.3 from `store` (in place of its in-memory schedules)
    and arm every schedule already stored. Call once the layer's router delivers to the
    gateway (`DeviceSide.connect`): runs missed while the DCC was down are sent at once."""
    requests = ScheduleRequests(layer, store)
    layer.non_device_handlers.update(requests.handlers)
    loaded = requests.schedules.load()
    if loaded:
        _log.info("%d DCC schedules loaded from the store", loaded)
    return requests


def _xml(element: etree._Element) -> str:
    return etree.tostring(copy.deepcopy(element), encoding="unicode")


def _hyphenated(device: str) -> str:
    try:
        return EUI64.parse(device).hyphenated
    except ValueError:
        return device


def _field(parent: etree._Element, name: str) -> str:
    value = parent.findtext(f"{{{SR}}}{name}")
    if not value or not value.strip():
        raise ValueError(f"{etree.QName(parent).localname} has no {name}")
    return value.strip()
