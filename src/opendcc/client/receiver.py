"""The user's Receive Response Service: a tiny HTTP server the DCC POSTs async responses to.

DCC Boxed behaviour: the receiver answers 204 when it accepts a DUIS response and 400 when the
response fails its checks (then the DCC records the refusal and stops retrying). Delivery is at
least once, so a response can arrive twice; the receiver keeps the first of each RequestID and
response code and counts the duplicates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opendcc.client.errors import ResponseTimeout
from opendcc.client.response import Response

MAX_BODY = 10_000_000


class Receiver:
    """Listens on a free local port; `wait_for(request_id)` returns the response when it comes."""

    def __init__(self, accept: Callable[[bytes], Response], host: str = "127.0.0.1",
                 port: int = 0, on_message: Callable[[Response], None] | None = None) -> None:
        self._accept = accept
        # Called once for every new (non-duplicate) message, e.g. to handle alerts as they come.
        self._on_message = on_message
        self._cond = threading.Condition()
        self._responses: dict[str, list[Response]] = {}
        self.duplicates = 0
        self.refused = 0
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The URL to register as the user's response URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> Receiver:
        """Serve in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            name="opendcc-receiver", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deliver(self, body: bytes) -> int:
        """Accept one POSTed document: 204 when it verifies, 400 when it does not."""
        try:
            response = self._accept(body)
        except Exception:
            with self._cond:
                self.refused += 1
            return 400
        key = response.request_id or response.response_id or ""
        with self._cond:
            seen = self._responses.setdefault(key, [])
            duplicate = any(r.response_code == response.response_code and r.xml == response.xml
                            for r in seen)
            if duplicate:
                self.duplicates += 1
            else:
                seen.append(response)
                self._cond.notify_all()
        if not duplicate and self._on_message is not None:
            self._on_message(response)
        return 204

    def received(self, request_id: str) -> list[Response]:
        """Every distinct response received so far for a RequestID (or, for messages without
        one, a ResponseID)."""
        with self._cond:
            return list(self._responses.get(request_id, []))

    def wait_for(self, request_id: str, timeout: float,
                 predicate: Callable[[Response], bool] | None = None) -> Response:
        """The first response for `request_id` (matching `predicate`), waiting up to `timeout` s."""
        def found() -> Response | None:
            for r in self._responses.get(request_id, []):
                if predicate is None or predicate(r):
                    return r
            return None

        with self._cond:
            hit = self._cond.wait_for(found, timeout)
        if hit is None:
            raise ResponseTimeout(
                f"no async response for {request_id} within {timeout} s; the DCC retries "
                f"delivery, so it may still arrive at {self.url}"
            )
        return hit

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_response(413)
                    self.end_headers()
                    return
                status = receiver.deliver(self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # the SDK stays quiet; the DCC side logs deliveries

        return Handler
