"""One client's WebSocket: who it is, what it joined, and its ordered outbound queue.

Everything the server sends goes through one writer task per link, so a client that
stops reading stalls only its own queue; past ``max_pending`` frames it is cut off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from fsm.logs import get_logger

from .auth import Claims
from .limits import RateLimiter

if TYPE_CHECKING:
    from .sessions import Session

log = get_logger("ptt.server")


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


@dataclass(frozen=True)
class _Frame:
    data: str | bytes
    seq: int | None  # a relayed message's number: owed to the session if never written


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
        self._queue: asyncio.Queue[_Frame | _Close] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name=f"ptt-link-{claims.user}")

    @property
    def user(self) -> str:
        return self.claims.user

    def send(self, frame: str | bytes, *, seq: int | None = None) -> bool:
        """Queue a frame and return True; once the link is closing, drop it and return False.

        The ``seq`` of a relayed message still queued when the link dies is handed back
        by :meth:`take_unsent`, so the session knows what no link wrote.
        """
        if self.closing:
            return False
        if self._queue.qsize() >= self._max_pending:
            log.warning("ptt.server.slow_client", user=self.user, pending=self._queue.qsize())
            self.closing = True
            # A client that does not read would also stall a closing handshake: cut it.
            self.ws.transport.abort()
            return False
        self._queue.put_nowait(_Frame(frame, seq))
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (so an error reply precedes its close)."""
        if self.closing:
            return
        self.closing = True
        self._queue.put_nowait(_Close(code, reason))

    def take_unsent(self) -> list[int]:
        """Remove the frames not yet written; return the seqs of the relayed ones, in order.

        For a link that is dead or being replaced: its other frames are meant for a
        socket nobody reads any more. A queued close stays queued.
        """
        items = [self._queue.get_nowait() for _ in range(self._queue.qsize())]
        for item in items:
            if isinstance(item, _Close):
                self._queue.put_nowait(item)
        return [item.seq for item in items if isinstance(item, _Frame) and item.seq is not None]

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
                await self.ws.send(item.data)
        except ConnectionClosed:
            self.closing = True
