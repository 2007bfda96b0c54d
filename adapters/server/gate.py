"""The opening handshake: load shedding, forced overload answers, the path, the token.

Rejections are plain HTTP answers (401, 403, 404, 503...) so a client can classify them
before any WebSocket exists; the accepted token's claims are handed to the connection.

Load shedding (:class:`HandshakeLimit`): a connection is *in flight* from its accepted
handshake until its first request (the join) has been answered. While ``max_in_flight``
are, a new handshake is answered 503 at once, with a ``Retry-After`` that books the
client a later slot: slots are handed out ``rate`` a second, so a herd of N is spread
over about N / ``rate`` seconds instead of timing out all together.
"""

from __future__ import annotations

import http
import random
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from adapters.backends.reference import protocol
from fsm.logs import get_logger

from .auth import Claims, TokenError, TokenExpired, bearer_token, verify_token
from .stats import Stats

log = get_logger("ptt.server")

CHANNEL_HEADER = "X-PTT-Channel"


@dataclass(frozen=True)
class HandshakeLimit:
    """When to shed handshakes and how to spread the clients told to come back.

    ``max_in_flight``: accepted connections whose join is not answered yet (0: never
    shed). ``rate``: slots a second handed out in ``Retry-After`` answers. The hint is
    at least ``min_retry`` and at most ``max_retry`` seconds, plus up to ``jitter``.
    ``settle_timeout``: a connection that sends no request counts as in flight at most
    this long (an idle socket cannot hold a slot forever).
    """

    max_in_flight: int = 100
    rate: float = 200.0
    min_retry: float = 0.5
    max_retry: float = 30.0
    jitter: float = 0.5
    settle_timeout: float = 5.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_in_flight < 0 or self.rate <= 0 or self.settle_timeout <= 0:
            raise ValueError("max_in_flight must be >= 0, rate and settle_timeout > 0")
        if not 0 <= self.min_retry <= self.max_retry or self.jitter < 0:
            raise ValueError("need 0 <= min_retry <= max_retry and jitter >= 0")


class _Shedder:
    """The in-flight set and the slot book of :class:`HandshakeLimit`."""

    def __init__(self, limit: HandshakeLimit) -> None:
        self.limit = limit
        self._in_flight: dict[int, float] = {}  # id(conn) -> admitted at (monotonic)
        self._next_slot = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def retry_after(self) -> float | None:
        """``None``: admit; else the seconds to tell the client to wait."""
        limit = self.limit
        if limit.max_in_flight == 0:
            return None
        now = time.monotonic()
        stale = now - limit.settle_timeout
        for key, admitted in list(self._in_flight.items()):  # oldest first
            if admitted > stale:
                break
            del self._in_flight[key]
        if len(self._in_flight) < limit.max_in_flight:
            return None
        # Book the next free slot: a herd leaves in a queue, not in a new herd.
        self._next_slot = max(self._next_slot, now + limit.min_retry) + 1.0 / limit.rate
        wait = min(limit.max_retry, self._next_slot - now)
        return round(wait + limit.jitter * limit.random(), 1)

    def admitted(self, conn: ServerConnection) -> None:
        self._in_flight[id(conn)] = time.monotonic()

    def settled(self, conn: ServerConnection) -> None:
        self._in_flight.pop(id(conn), None)


class Gate:
    def __init__(
        self,
        secret: str,
        stats: Stats,
        path: str = protocol.DEFAULT_PATH,
        limit: HandshakeLimit | None = None,
    ) -> None:
        self._secret = secret
        self._stats = stats
        self._path = path
        self._forced: deque[tuple[int, float | None]] = deque()
        self._claims: weakref.WeakKeyDictionary[ServerConnection, Claims] = (
            weakref.WeakKeyDictionary()
        )
        self._shedder = _Shedder(limit or HandshakeLimit())
        #: Called with each handshake's outcome (``"ok"``, ``"503"``...), e.g. by a bench.
        self.observer: Callable[[str], None] | None = None

    @property
    def in_flight(self) -> int:
        """Accepted connections whose first request is not answered yet."""
        return self._shedder.in_flight

    def settled(self, conn: ServerConnection) -> None:
        """``conn`` had its first request answered, or ended: it no longer counts."""
        self._shedder.settled(conn)

    def reject_next(self, n: int, status: int, retry_after: float | None) -> None:
        self._forced.extend([(status, retry_after)] * n)

    def claims_for(self, conn: ServerConnection) -> Claims:
        return self._claims.pop(conn)

    def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if self._forced:
            status, retry_after = self._forced.popleft()
            response = conn.respond(status, "Service unavailable, try again later.\n")
            if retry_after is not None:
                response.headers["Retry-After"] = f"{retry_after:g}"
            return response
        shed = self._shedder.retry_after()
        if shed is not None:
            response = conn.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE, "Busy: come back after Retry-After.\n"
            )
            response.headers["Retry-After"] = f"{shed:g}"
            return response
        if urlsplit(request.path).path != self._path:
            return conn.respond(http.HTTPStatus.NOT_FOUND, "No such endpoint.\n")
        authorizations = request.headers.get_all("Authorization")
        token = bearer_token(authorizations[0]) if len(authorizations) == 1 else None
        if token is None:
            return _unauthorized(conn, "One bearer token is required.\n")
        try:
            claims = verify_token(self._secret, token)
        except TokenExpired:
            return _unauthorized(conn, "The token has expired.\n")
        except TokenError:
            return _unauthorized(conn, "The token is not valid.\n")
        wanted = request.headers.get_all(CHANNEL_HEADER)
        if wanted and wanted != [claims.channel]:
            log.info("ptt.server.handshake_forbidden", user=claims.user, channel=wanted[0])
            return conn.respond(http.HTTPStatus.FORBIDDEN, "The token is for another channel.\n")
        self._claims[conn] = claims
        self._shedder.admitted(conn)
        return None

    def process_response(
        self, conn: ServerConnection, request: Request, response: Response
    ) -> None:
        status = response.status_code
        outcome = "ok" if status == http.HTTPStatus.SWITCHING_PROTOCOLS else str(status)
        self._stats.handshakes[outcome] += 1
        if status != http.HTTPStatus.SWITCHING_PROTOCOLS:
            self._shedder.settled(conn)
        if self.observer is not None:
            self.observer(outcome)


def _unauthorized(conn: ServerConnection, text: str) -> Response:
    response = conn.respond(http.HTTPStatus.UNAUTHORIZED, text)
    response.headers["WWW-Authenticate"] = 'Bearer realm="ptt"'
    return response
