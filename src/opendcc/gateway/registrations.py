"""`POST /admin/registrations`: a registration data feed reaching a running DCC.

Registration data comes to the DCC from the registration data providers, not from DUIS users:
the body is the feed `opendcc.inventory.registration_feed` reads (CSV, header
`mpxn,supplier_id,network_operator_id,effective_from`), applied whole or not at all. Like the
other /admin routes it has no authentication of its own (keep the gateway on 127.0.0.1 or
guard /admin in a proxy).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from opendcc.clock import Clock
from opendcc.gateway.wiring import Services
from opendcc.inventory.registration_feed import RegistrationFeedError, apply_feed

#: A feed of this size holds ~1.5 million meter points: more is refused (413), not read.
MAX_FEED_BYTES: Final = 64 * 1024 * 1024
_MEDIA: Final = frozenset({"text/csv", "text/plain"})

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "Registration feed: mpxn,supplier_id,network_operator_id,effective_from",
    },
    "responses": {
        "200": {"description": '{"applied": <records>}'},
        "400": {"description": "A bad line (named) or a refused change: nothing applied."},
        "413": {"description": "Larger than the gateway reads."},
        "415": {"description": "Content-Type is not text/csv (or text/plain)."},
    },
}


def add_registration_routes(app: FastAPI, svc: Services) -> None:
    """Add `POST /admin/registrations` to the gateway application."""

    def now_of_service() -> datetime:
        # Registration is checked at the Data Service's time (its clock decides E4), which a
        # test may set apart from the gateway's certificate-validity clock.
        clock: Clock = getattr(svc.gateway.service, "clock", None) or svc.clock
        return clock.now()

    def apply(text: str) -> int:
        with svc.store.begin() as conn:  # an exception rolls the whole feed back
            return apply_feed(conn, text, now_of_service())

    @app.post("/admin/registrations", openapi_extra=_CSV_BODY, tags=["administration"])
    async def post_registrations(request: Request) -> dict[str, int]:
        """Apply a registration data feed (CSV), whole or not at all."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in _MEDIA:
            raise HTTPException(415, f"a registration feed is text/csv, got {media or 'none'!r}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_FEED_BYTES:
                raise HTTPException(413, f"a registration feed is at most {MAX_FEED_BYTES} bytes")
        try:
            text = b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"a registration feed is UTF-8: {exc}") from None
        try:
            applied = await run_in_threadpool(apply, text)
        except RegistrationFeedError as exc:
            raise HTTPException(400, f"{exc}; nothing applied") from None
        except SQLAlchemyError as exc:
            raise HTTPException(503, f"the store did not answer: "
                                     f"{str(exc).splitlines()[0]}; nothing applied") from None
        return {"applied": applied}
