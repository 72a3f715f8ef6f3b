"""The HTTP surface: DCC Boxed's three DUIS endpoints, health, metrics and user administration.

Paths and semantics follow DCC Boxed (default port 8079): `POST /api/v1/serviceD` (non-device,
synchronous), `/api/v1/serviceS` (send command: synchronous I99 acknowledgement, the device
response later through the durable outbox to the user's Receive Response Service URL),
`/api/v1/serviceT` (transform: returns the Pre-Command of a critical SRV). Bodies are
`application/xml`; answers are DUIS Responses signed with the DCC's key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from opendcc.gateway.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from opendcc.gateway.pipeline import Answer, Endpoint
from opendcc.gateway.registrations import add_registration_routes
from opendcc.gateway.wiring import GatewayConfig, Services, build_services
from opendcc.ids import EUI64

_XML_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        "description": "A DUIS Request (DUIS Schema V5.4), XMLDSig-signed by the user.",
    },
    "responses": {
        "200": {"description": "A DUIS Response signed by the DCC (I0, I99 or an E-code).",
                "content": {"application/xml": {}}},
        "400": {"description": "Malformed, schema-invalid, or a DUIS validation error."},
        "401": {"description": "Unsigned, bad signature, unknown/revoked/expired certificate."},
        "413": {"description": "Body larger than the gateway accepts."},
        "415": {"description": "Content-Type is not application/xml."},
    },
}


def create_app(config: GatewayConfig | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the gateway application (DCC Boxed-compatible paths); `services` overrides wiring."""
    svc = services or build_services(config or GatewayConfig())
    app = FastAPI(
        title="opendcc DUIS gateway",
        version="0.1.0",
        description="DCC Boxed-compatible DUIS endpoints of opendcc. See docs/gateway.md.",
    )
    app.state.services = svc

    async def read_limited(request: Request) -> bytes:
        # Stop reading one byte past the limit: the pipeline answers Oversize from the length.
        limit = svc.gateway.max_bytes + 1
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(chunks)

    def to_response(answer: Answer) -> Response:
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    def route(endpoint: Endpoint) -> None:
        async def handler(request: Request) -> Response:
            body = await read_limited(request)
            # The pipeline blocks (crypto, SQL commit): a worker thread keeps the event loop
            # free, and one request's commit overlaps another's parsing and signing.
            answer = await run_in_threadpool(
                svc.gateway.submit, endpoint, body, request.headers.get("content-type")
            )
            return to_response(answer)

        handler.__name__ = endpoint.value
        handler.__doc__ = {
            Endpoint.D: "Non-Device Service: a non-device SR answered synchronously (CV 2, 6, 8).",
            Endpoint.S: "Send Command Service: I99 now, the device's response later to the "
                        "user's Receive Response Service URL (CV 1, 3, 5, 7).",
            Endpoint.T: "Transform Service: the GBCS Pre-Command of a critical SR (CV 4).",
        }[endpoint]
        app.post(f"/api/v1/{endpoint.value}", openapi_extra=_XML_BODY,
                 response_class=Response, tags=["DUIS"])(handler)

    for endpoint in Endpoint:
        route(endpoint)

    @app.get("/health", tags=["operations"])
    def health() -> JSONResponse:
        """Liveness and readiness: the store answers (else 503), and the delivery backlog."""
        try:
            depth = svc.outbox.depth()
        except SQLAlchemyError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc).splitlines()[0]},
                                status_code=503)
        return JSONResponse({"status": "ok", "outbox_depth": depth})

    @app.get("/metrics", response_class=PlainTextResponse, tags=["operations"])
    def metrics() -> PlainTextResponse:
        """Prometheus text: requests by endpoint and response code, latency, outbox depth."""
        return PlainTextResponse(svc.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    @app.get("/admin/users", tags=["administration"])
    def list_users() -> list[dict[str, object]]:
        """Every DCC user (organisation) with its roles and Receive Response Service URL."""
        return svc.users.list()

    @app.put("/admin/users/{user_id}/response-url", tags=["administration"])
    def set_response_url(
        user_id: str, url: Annotated[str, Body(embed=True, description="http(s) URL")]
    ) -> dict[str, str]:
        """Register the URL where the DCC POSTs this user's asynchronous DUIS responses."""
        if not url.startswith(("http://", "https://")):
            raise HTTPException(422, f"response URL must be http(s), got {url!r}")
        try:
            svc.users.set_response_url(user_id, url)
        except KeyError:
            raise HTTPException(404, f"no DCC user {user_id}") from None
        # Responses that waited for an endpoint go now, not at their next back-off time.
        if svc.outbox.retry_now(EUI64.parse(user_id).hyphenated, svc.clock.now()):
            svc.worker.wake()
        return {"user_id": user_id, "response_url": url}

    add_registration_routes(app, svc)  # POST /admin/registrations: the registration feed
    return app
