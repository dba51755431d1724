"""The one module that talks HTTP to LRSs (xAPI 1.0.3 Communication, Part Three).

One :class:`LrsClient` per upstream LRS holds one ``httpx.Client``: connections are reused,
every request has a timeout, sends ``X-Experience-API-Version`` and Basic auth. Sending a
batch never raises for an HTTP outcome; it returns a :class:`SendResult` whose
:class:`Outcome` tells the delivery worker what to do:

========================  ===================  ===========================================
response                  outcome              why
========================  ===================  ===========================================
2xx                       DELIVERED            stored (204 = every id already known)
409                       CONFLICT             the LRS already holds a statement with the
                                               id; for one statement that is "delivered"
400, 413, 422             REJECTED             permanent for this body; split if >1
401, 403                  CREDENTIALS          fix the credentials; never drop
5xx, 408, 429, timeouts,  RETRYABLE            try again later with backoff
connection errors
========================  ===================  ===========================================

Ralph 5.1.0 answers 422 (FastAPI validation) where the spec says 400: both are permanent.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx

from xapi.errors import XapiError

DEFAULT_VERSION = "1.0.3"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class LrsError(XapiError):
    """Base class of errors talking to an LRS."""


class LrsCredentialsError(LrsError):
    """The LRS refused our credentials (401/403): fix the destination's username/password."""


class LrsUnavailableError(LrsError):
    """The LRS could not be reached or answered 5xx/timeout; try again later."""


class LrsRejectedError(LrsError):
    """The LRS rejected the request as malformed (400/422); retrying the same bytes will not help."""


class LrsProtocolError(LrsError):
    """The LRS answered something that is not what the xAPI spec promises (e.g. not JSON)."""


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    CREDENTIALS = "credentials"
    RETRYABLE = "retryable"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status_code: int | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DELIVERED


def classify_status(status_code: int) -> Outcome:
    """Map an HTTP status of ``POST /statements`` to what the sender should do."""
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code == 409:
        return Outcome.CONFLICT
    if status_code in (401, 403):
        return Outcome.CREDENTIALS
    if status_code in (408, 425, 429) or status_code >= 500:
        return Outcome.RETRYABLE
    if 400 <= status_code < 500:
        return Outcome.REJECTED
    return Outcome.RETRYABLE  # 1xx/3xx here means a proxy misbehaved: try again later


def serialize_statement(statement: Mapping[str, Any]) -> str:
    """Byte-stable JSON for a statement: the same dict gives the same text on every retry."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def batch_body(payloads: Sequence[str]) -> bytes:
    """A JSON array of already serialized statements, without re-encoding them."""
    return ("[" + ",".join(payloads) + "]").encode("utf-8")


_POST_HEADERS = {"Content-Type": "application/json"}
# httpcore's trace event once the whole body is written ("http11." or "http2." in front).
_REQUEST_WRITTEN = ".send_request_body.complete"


def _excerpt(response: httpx.Response, limit: int = 500) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("..." if len(text) > limit else "")


class LrsClient:
    """HTTP client of one LRS endpoint (``https://lrs.example/xapi/``).

    Args:
        endpoint: the xAPI base IRL; ``statements`` is resolved against it.
        username / password: Basic auth credentials.
        version: sent as ``X-Experience-API-Version`` on every request.
        timeout: seconds (or an ``httpx.Timeout``) for connect/read/write/pool.
        max_connections: the pool bound, so a slow LRS cannot make us open more sockets.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        username: str | None = None,
        password: str | None = None,
        version: str = DEFAULT_VERSION,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_connections: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not endpoint.endswith("/"):
            endpoint += "/"  # so that "statements" resolves below the endpoint, not beside it
        self.endpoint = endpoint
        self.version = version
        headers = {"X-Experience-API-Version": version, "Accept": "application/json"}
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        self._http = httpx.Client(
            base_url=endpoint,
            headers=headers,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- sending -------------------------------------------------------------------------

    def send(self, payloads: Sequence[str], *, on_sent: Callable[[], None] | None = None) -> SendResult:
        """POST serialized statements as one batch and classify the answer (never raises for HTTP).

        ``on_sent`` is called exactly once: when the request is on the wire and we only wait for the answer
        (at the latest before returning): the delivery worker starts its database work then,
        so that work does not contend for the GIL with building and writing the request.
        """
        extensions: dict[str, Any] = {}
        fired = on_sent is None

        def fire() -> None:
            nonlocal fired
            if not fired and on_sent is not None:
                fired = True
                on_sent()

        if on_sent is not None:

            def trace(event: str, _info: Mapping[str, Any]) -> None:
                if event.endswith(_REQUEST_WRITTEN):
                    fire()

            extensions["trace"] = trace
        try:
            response = self._http.post(
                "statements", content=batch_body(payloads), headers=_POST_HEADERS, extensions=extensions
            )
        except httpx.TimeoutException as error:
            return SendResult(Outcome.RETRYABLE, None, f"timeout talking to {self.endpoint}: {type(error).__name__}")
        except httpx.TransportError as error:
            return SendResult(Outcome.RETRYABLE, None, f"cannot reach {self.endpoint}: {type(error).__name__}: {error}")
        finally:
            fire()  # also when the request never got out: the caller must not wait for ever
        outcome = classify_status(response.status_code)
        detail = f"HTTP {response.status_code} from {self.endpoint}statements"
        if outcome is Outcome.CREDENTIALS:
            detail += ": the LRS refused our credentials; check the destination's username and password"
        elif outcome is not Outcome.DELIVERED:
            detail += f": {_excerpt(response)}"
        return SendResult(outcome, response.status_code, detail)

    def send_statements(self, statements: Sequence[Mapping[str, Any]]) -> SendResult:
        return self.send([serialize_statement(s) for s in statements])

    # -- reading -------------------------------------------------------------------------

    def get_json(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        """GET a resource (relative to the endpoint, or a server-root ``more`` path) as JSON.

        Raises:
            LrsCredentialsError, LrsUnavailableError, LrsRejectedError, LrsProtocolError.
        """
        try:
            response = self._http.get(url, params=params)
        except httpx.TimeoutException as error:
            raise LrsUnavailableError(f"timeout reading {url} from {self.endpoint}") from error
        except httpx.TransportError as error:
            raise LrsUnavailableError(f"cannot reach {self.endpoint} ({url}): {error}") from error
        outcome = classify_status(response.status_code)
        where = f"GET {response.request.url}"
        if outcome is Outcome.CREDENTIALS:
            raise LrsCredentialsError(f"{where}: HTTP {response.status_code}; check the LRS username and password")
        if outcome is Outcome.RETRYABLE:
            raise LrsUnavailableError(f"{where}: HTTP {response.status_code}: {_excerpt(response)}")
        if outcome is not Outcome.DELIVERED:
            raise LrsRejectedError(f"{where}: HTTP {response.status_code}: {_excerpt(response)}")
        try:
            return response.json()
        except ValueError as error:
            raise LrsProtocolError(f"{where}: the LRS answered non-JSON: {_excerpt(response, 200)!r}") from error

    def resolve_more(self, more: str) -> str:
        """The absolute URL of a ``more`` IRL (relative to the LRS server root, Communication 2.1.3)."""
        return str(self._http.base_url.join(more))
