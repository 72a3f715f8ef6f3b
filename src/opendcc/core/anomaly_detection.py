"""Threshold Anomaly Detection: per-user, per-SRV volume thresholds, and quarantine.

SEC Section A (Threshold Anomaly Detection): the DCC detects whether the number of
communications it processes for a User ID, in general or of one type, exceeds the relevant
Anomaly Detection Threshold, and quarantines those in excess. Each user sets its thresholds
per Service Request Variant; where it has not, the DCC's own apply. Here a threshold is a count
of requests in a rolling period (e.g. 1,000 per hour) for one (user, SRV), and the request that
would exceed it is quarantined: not processed, answered with `RequestQuarantined`, audited.

What DUIS V5.4's schema documents is the DCC Alert the user then receives, a `DCCAlertMessage`
whose `DCCAlert` is `QuarantinedRequest/ADUserThresholdBreach` (the RequestID and a
QuarantineEventRef). The DCC Alert code for it and any synchronous response code could not be
confirmed from the sources opendcc consults, so the synchronous answer is an HTTP status with
no DUIS code (see `RequestQuarantined`) and the alert is not sent yet.

Counts live in memory, per process: several gateway processes would each count on their own
(scale-out needs the counts in the store). Without any threshold configured, nothing is counted.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opendcc.clock import Clock
from opendcc.duis.response_codes import RequestQuarantined
from opendcc.ids import EUI64


@dataclass(frozen=True, slots=True)
class Threshold:
    """At most `limit` requests in any rolling `period`; the next one is quarantined."""

    limit: int
    period: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"an anomaly detection threshold must allow at least one request, not {self.limit}")
        if self.period <= timedelta(0):
            raise ValueError(f"an anomaly detection period must be positive, not {self.period}")


@dataclass(frozen=True)
class Thresholds:
    """The Anomaly Detection Thresholds in force: the user's own per SRV, else the DCC's.

    `by_user_srv` holds what each user set for an SRV; `by_srv` the DCC's threshold for an SRV;
    `default` the DCC's threshold for every other (user, SRV), `None` for none (detection off).
    """

    default: Threshold | None = None
    by_srv: Mapping[str, Threshold] = field(default_factory=dict)
    by_user_srv: Mapping[tuple[EUI64, str], Threshold] = field(default_factory=dict)

    def for_request(self, user: EUI64, srv: str) -> Threshold | None:
        """The threshold that applies to `user` sending Service Request Variant `srv`."""
        return self.by_user_srv.get((user, srv)) or self.by_srv.get(srv) or self.default


class AnomalyDetector:
    """Counts each user's requests per SRV in a sliding window and quarantines the excess."""

    def __init__(self, thresholds: Thresholds, clock: Clock) -> None:
        self.thresholds = thresholds
        self.clock = clock
        # Times of the requests counted, oldest first; at most `limit` are ever needed.
        self._seen: dict[tuple[EUI64, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def check(self, user: EUI64, srv: str) -> None:
        """SEC Threshold Anomaly Detection: count this request, or raise `RequestQuarantined`
        if it would exceed the user's threshold for the SRV (a quarantined one is not counted)."""
        threshold = self.thresholds.for_request(user, srv)
        if threshold is None:
            return
        now = self.clock.now()
        key = (user, srv)
        with self._lock:
            seen = self._seen.get(key)
            if seen is None or seen.maxlen != threshold.limit:
                seen = self._seen[key] = deque(seen or (), maxlen=threshold.limit)
            cutoff = now - threshold.period
            while seen and seen[0] <= cutoff:
                seen.popleft()
            if len(seen) >= threshold.limit:
                raise RequestQuarantined(
                    f"user {user} has sent {len(seen)} SRV {srv} requests in the last "
                    f"{threshold.period}, its anomaly detection threshold is {threshold.limit}: "
                    "the request is quarantined"
                )
            seen.append(now)

    def count(self, user: EUI64, srv: str) -> int:
        """How many of `user`'s SRV `srv` requests the current window holds."""
        threshold = self.thresholds.for_request(user, srv)
        with self._lock:
            seen = self._seen.get((user, srv))
            if threshold is None or not seen:
                return 0
            cutoff = self.clock.now() - threshold.period
            return sum(1 for at in seen if at > cutoff)
