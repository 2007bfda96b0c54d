"""The reference PTT server: a websockets server around the hub, plus test hooks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from adapters.backends.reference import protocol
from adapters.backends.reference.causes import CLOSE_SERVICE_RESTART, restart_reason
from adapters.backends.reference.redact import RedactingLogger
from fsm.logs import get_logger

from .dispatch import Dispatcher
from .gate import Gate, HandshakeLimit
from .hub import Hub
from .limits import RateLimiter
from .link import Link
from .media import STALL_TIMEOUT, MediaRouter, NoMedia
from .mediaops import MediaOps
from .stats import Stats
from .tasks import Background

log = get_logger("ptt.server")

#: Seconds a departed user's message ids (and the rest) are remembered: a client's
#: backoff plus rejoin fits well inside, a soak's churn of users does not accumulate.
FORGET_AFTER = 30.0


class PttServer:
    """A PTT signaling server on ``ws://host:port/ptt``; ``port=0`` picks a free port.

    Use ``async with PttServer(secret) as server:`` or ``await start()`` / ``await close()``.
    ``grace``: seconds a dropped member's session is kept for a resume (0: none).
    ``max_talk_time``: seconds before the floor is revoked (0: no limit).
    ``stall_timeout``: seconds without audio from the floor holder's producer before the
    floor is revoked (reason ``stalled``; 0: never). The router measures it: the SFU of
    :func:`media_server` gets this value and reports through :meth:`speaker_stalled`;
    with :class:`NoMedia` nothing is watched (media-less floor use is legitimate).
    ``max_rps``: requests a second per connection (burst as large; a sustained excess
    closes with CLOSE_RATE_LIMITED). ``media``: the :class:`MediaRouter` (default
    :class:`NoMedia`). ``ping_*``/``close_timeout`` are the websockets keepalive settings.
    ``forget_after``: seconds a user that has neither a link nor a session is still
    remembered (its recent message ids, so a resend after a fresh rejoin is deduplicated,
    what its ended sessions missed, its stats entries); then nothing of it is kept.
    Messages for a member whose link is down are kept (bounded) for its resume and
    replayed after the resumed join's answer; ``missed`` in a join answer counts those
    lost for good. ``handshake_limit``: load shedding (503 with a spread ``Retry-After``
    while too many handshakes and joins are in flight; see :mod:`.gate`).
    """

    def __init__(
        self,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        grace: float = 30.0,
        max_talk_time: float = 60.0,
        stall_timeout: float = STALL_TIMEOUT,
        max_message_size: int = protocol.MAX_FRAME_BYTES,
        max_rps: float = 50,
        max_members: int = 50,
        forget_after: float = FORGET_AFTER,
        media: MediaRouter | None = None,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float = 2.0,
        media_timeout: float = 10.0,
        path: str = protocol.DEFAULT_PATH,
        handshake_limit: HandshakeLimit | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the token secret must not be empty")
        if max_rps <= 0 or max_members < 1 or min(grace, max_talk_time, stall_timeout) < 0:
            raise ValueError(
                "limits must be positive (grace, max_talk_time and stall_timeout may be 0)"
            )
        if forget_after < 0:
            raise ValueError("forget_after must not be negative")
        self.host, self.path = host, path
        self.stall_timeout = stall_timeout
        self.stats = Stats()
        self.media: MediaRouter = media if media is not None else NoMedia()
        self._port = port
        self._max_message_size = max_message_size
        self._max_rps = max_rps
        self._ping = (ping_interval, ping_timeout)
        self._close_timeout = close_timeout
        self._gate = Gate(secret, self.stats, path, handshake_limit)
        self._background = Background()
        self._hub = Hub(
            self.media,
            self._background,
            self.stats,
            grace=grace,
            max_talk_time=max_talk_time,
            max_members=max_members,
            forget_after=forget_after,
        )
        media_ops = MediaOps(self._hub, timeout=media_timeout)
        self._dispatcher = Dispatcher(self._hub, media_ops, self.stats)
        self._links: set[Link] = set()
        self._server: Server | None = None
        self._closing: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port (kept after close, so tests can try to reconnect)."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}{self.path}"

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the server is already started")
        self._server = await serve(
            self._serve_link,
            self.host,
            self._port,
            process_request=self._gate.process_request,
            process_response=self._gate.process_response,
            select_subprotocol=_select_subprotocol,
            max_size=self._max_message_size,
            ping_interval=self._ping[0],
            ping_timeout=self._ping[1],
            close_timeout=self._close_timeout,
            # Its DEBUG lines quote every handshake's Authorization header: never a token.
            logger=RedactingLogger(logging.getLogger("websockets.server")),
        )
        self._port = next(iter(self._server.sockets)).getsockname()[1]

    async def close(self, *, restart_in: float | None = None, spread: float = 2.0) -> None:
        """Close every connection with 1001 (going away), end all sessions, stop all work.

        ``restart_in``: a planned restart, back in about that many seconds. Each client is
        closed with 1012 (service restart) and the reason ``retry-after=S``, S spread
        uniformly over ``[restart_in, restart_in + spread]``, so the fleet comes back
        spread over ``spread`` seconds instead of all at once (or all on a long backoff).
        """
        if self._closing is None:
            self._closing = asyncio.create_task(self._close(restart_in, spread))
        await asyncio.shield(self._closing)

    async def _close(self, restart_in: float | None = None, spread: float = 2.0) -> None:
        if restart_in is not None and self._links:
            links = list(self._links)
            for link in links:
                hint = max(0.0, restart_in) + max(0.0, spread) * random.random()
                link.close(CLOSE_SERVICE_RESTART, restart_reason(hint))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._close_timeout + 1.0):
                    await asyncio.gather(*(link.wait_closed() for link in links))
        if self._server is not None:
            self._server.close()  # 1001 to open connections, 503 to handshakes in progress
            await self._server.wait_closed()
        self._hub.close()
        await self._background.drain(grace=self._close_timeout)
        closer = getattr(self.media, "close", None)
        if closer is not None and asyncio.iscoroutinefunction(closer):
            await closer()  # the SFU's peer connections and relay tasks

    async def __aenter__(self) -> PttServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve_link(self, ws: ServerConnection) -> None:
        link = Link(ws, self._gate.claims_for(ws), RateLimiter(self._max_rps))
        self._links.add(link)
        self._hub.link_opened(link)
        expiry = asyncio.get_running_loop().call_later(
            max(0.0, link.claims.seconds_left()),
            link.close,
            protocol.CLOSE_AUTH_EXPIRED,
            "token expired",
        )
        try:
            async for frame in ws:
                if link.closing or self._closing is not None:
                    continue  # drain until the closing handshake ends the loop
                try:
                    await self._dispatcher.on_frame(link, frame)
                except Exception:
                    log.exception("ptt.server.link_failed", user=link.user)
                    link.close(1011, "internal error")
                self._gate.settled(ws)  # its first request is answered: out of the herd
        except ConnectionClosed:
            pass
        finally:
            self._gate.settled(ws)
            expiry.cancel()
            self._links.discard(link)
            self._hub.link_lost(link)
            await link.stop()

    # --- test hooks ---------------------------------------------------------------------
    def reject_next(self, n: int = 1, status: int = 503, retry_after: float | None = 1.0) -> None:
        """Answer the next ``n`` handshakes with ``status`` (and ``Retry-After`` if given)."""
        self._gate.reject_next(n, status, retry_after)

    def watch_handshakes(self, observer: Callable[[str], None] | None) -> None:
        """Call ``observer`` with each handshake's outcome (``"ok"``, ``"503"``...)."""
        self._gate.observer = observer

    @property
    def handshakes_in_flight(self) -> int:
        """Accepted connections whose first request is not answered yet (load shedding)."""
        return self._gate.in_flight

    def kick(self, user: str) -> asyncio.Task[int]:
        """Close every link of ``user`` with CLOSE_KICKED and end its sessions (no grace).

        Acts at once; await the result to wait for the closes (it gives their count).
        """
        ended = self._hub.kick(user)
        log.info("ptt.server.kicked", user=user)
        links = [*ended, *self._open_links(user)]
        return self._close_links(links, protocol.CLOSE_KICKED, "kicked")

    def delete_channel(self, name: str) -> asyncio.Task[int]:
        """Close every member of ``name`` with CLOSE_CHANNEL_DELETED; await like :meth:`kick`."""
        links = self._hub.delete_channel(name)
        log.info("ptt.server.channel_deleted", channel=name)
        return self._close_links(links, protocol.CLOSE_CHANNEL_DELETED, "channel deleted")

    def send_raw(self, user: str, frame: str | bytes) -> int:
        """Queue an arbitrary frame to every link of ``user``; return how many got it."""
        links = self._open_links(user)
        for link in links:
            link.send(frame)
        return len(links)

    def producer_closed(self, peer_id: str, producer_id: str) -> bool:
        """For the media router: a producer vanished without ``close_peer`` (its transport
        died); the channel hears ``producerClosed``. Call on the server's event loop."""
        return self._hub.producer_closed(peer_id, producer_id)

    def speaker_stalled(self, peer_id: str) -> bool:
        """For the media router: the floor holder's audio stopped for ``stall_timeout``.
        If ``peer_id`` still holds a floor it is revoked (reason ``stalled``) and the
        channel hears ``speakerChanged`` null; return whether it was. Call on the loop."""
        return self._hub.speaker_stalled(peer_id)

    def footprint(self) -> dict[str, int]:
        """Counts of what the server holds per client (links, sessions, ids, buffers...):
        all return to 0 once every client has left and ``forget_after`` has passed."""
        return {"links": len(self._links), **self._hub.footprint()}

    def links(self, user: str | None = None) -> int:
        """How many WebSocket connections are open (for ``user``, if given)."""
        return sum(1 for link in self._links if user is None or link.user == user)

    def _open_links(self, user: str) -> list[Link]:
        return [link for link in self._links if link.user == user and not link.closing]

    def _close_links(self, links: Iterable[Link], code: int, reason: str) -> asyncio.Task[int]:
        unique = list(dict.fromkeys(links))
        for link in unique:
            link.close(code, reason)

        async def closed() -> int:
            if unique:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._close_timeout + 1.0):
                        await asyncio.gather(*(link.wait_closed() for link in unique))
            return len(unique)

        return self._background.spawn(closed(), f"ptt-close-{reason}")


def _select_subprotocol(conn: ServerConnection, offered: Any) -> Subprotocol | None:
    # Clients that offer no subprotocol are served too; the protocol has one version.
    wanted = Subprotocol(protocol.SUBPROTOCOL)
    return wanted if wanted in offered else None


async def serve_forever(server: PttServer, *, ready: Callable[[str], Any] | None = None) -> None:
    """Run ``server`` until SIGINT or SIGTERM, then close it cleanly.

    ``ready`` is called with ``server.url`` once it listens (``ptt serve`` prints it).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with server:
            if ready is not None:
                ready(server.url)
            await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
