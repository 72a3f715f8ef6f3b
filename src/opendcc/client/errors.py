"""What can go wrong for an SDK user, as a short hierarchy with messages that say what to do."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every opendcc.client error."""


class GatewayRejected(ClientError):
    """The DCC answered with an HTTP error and no DUIS response (e.g. schema or signature)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the DCC rejected the request with HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class ResponseNotTrusted(ClientError):
    """A DUIS response did not verify with the DCC's certificate: do not act on it."""


class ResponseTimeout(ClientError):
    """No asynchronous response arrived in time; it may still come (delivery retries)."""


class UnknownServiceRequest(ClientError):
    """The SRV is not in the DUIS catalogue, or the command variant does not fit it."""
