"""The opening handshake: forced overload answers, the path, and the bearer token.

Rejections are plain HTTP answers (401, 403, 404, 503...) so a client can classify them
before any WebSocket exists; the accepted token's claims are handed to the connection.
"""

from __future__ import annotations

import http
import weakref
from collections import deque
from urllib.parse import urlsplit

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from adapters.backends.reference import protocol

from .auth import Claims, TokenError, TokenExpired, bearer_token, verify_token
from .stats import Stats

log = structlog.get_logger("ptt.server")

CHANNEL_HEADER = "X-PTT-Channel"


class Gate:
    def __init__(self, secret: str, stats: Stats, path: str = protocol.DEFAULT_PATH) -> None:
        self._secret = secret
        self._stats = stats
        self._path = path
        self._forced: deque[tuple[int, float | None]] = deque()
        self._claims: weakref.WeakKeyDictionary[ServerConnection, Claims] = (
            weakref.WeakKeyDictionary()
        )

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
        return None

    def process_response(
        self, conn: ServerConnection, request: Request, response: Response
    ) -> None:
        status = response.status_code
        outcome = "ok" if status == http.HTTPStatus.SWITCHING_PROTOCOLS else str(status)
        self._stats.handshakes[outcome] += 1


def _unauthorized(conn: ServerConnection, text: str) -> Response:
    response = conn.respond(http.HTTPStatus.UNAUTHORIZED, text)
    response.headers["WWW-Authenticate"] = 'Bearer realm="ptt"'
    return response
