"""One client's WebSocket: who it is, what it joined, and its ordered outbound queue.

Everything the server sends goes through one writer task per link, so a client that
stops reading stalls only its own queue; past ``max_pending`` frames it is cut off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from .auth import Claims
from .limits import RateLimiter

if TYPE_CHECKING:
    from .sessions import Session

log = structlog.get_logger("ptt.server")


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class Link:
    def __init__(
        self,
        ws: ServerConnection,
        claims: Claims,
        limiter: RateLimiter,
        *,
        max_pending: int = 1024,
    ) -> None:
        self.ws = ws
        self.claims = claims
        self.limiter = limiter
        self.session: Session | None = None
        self.closing = False
        self._max_pending = max_pending
        self._queue: asyncio.Queue[str | bytes | _Close] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name=f"ptt-link-{claims.user}")

    @property
    def user(self) -> str:
        return self.claims.user

    def send(self, frame: str | bytes) -> None:
        """Queue a frame; dropped once the link is closing."""
        if self.closing:
            return
        if self._queue.qsize() >= self._max_pending:
            log.warning("ptt.server.slow_client", user=self.user, pending=self._queue.qsize())
            self.closing = True
            # A client that does not read would also stall a closing handshake: cut it.
            self.ws.transport.abort()
            return
        self._queue.put_nowait(frame)

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (so an error reply precedes its close)."""
        if self.closing:
            return
        self.closing = True
        self._queue.put_nowait(_Close(code, reason))

    async def wait_closed(self) -> None:
        await asyncio.wait([self._writer])

    async def stop(self) -> None:
        self.closing = True
        self._writer.cancel()
        await asyncio.wait([self._writer])

    async def _write(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Close):
                    await self.ws.close(item.code, item.reason)
                    return
                await self.ws.send(item)
        except ConnectionClosed:
            self.closing = True
