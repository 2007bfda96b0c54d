"""A loopback TCP proxy that injects network faults on command, for end-to-end tests.

Put it between a client and a server, then switch modes at runtime::

    async with FaultProxy("127.0.0.1", server.port) as proxy:
        client_url = proxy.url_for("/ptt")
        proxy.blackhole()      # the link goes silent in both directions
        proxy.pass_through()   # new connections work again

Modes apply to live connections and new ones alike, except ``refuse`` and ``flap``, which
only concern new connections. A connection that lost bytes to a blackhole stays a
blackhole: its byte stream has a gap, so forwarding more would hand a peer corrupt data.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import deque
from enum import StrEnum
from types import TracebackType

__all__ = ["FaultProxy", "Mode"]

_RST_LINGER = struct.pack("ii", 1, 0)  # SO_LINGER on, zero timeout: close() sends RST
_ACCEPT_BATCH = 64


class Mode(StrEnum):
    PASS = "pass"
    RESET = "reset"  # RST live connections and every new one
    BLACKHOLE = "blackhole"  # forward nothing, buffer nothing, close nothing
    REFUSE = "refuse"  # not listening: connects fail with ECONNREFUSED
    FLAP = "flap"  # accept, then close at once


class _Signal(StrEnum):
    EOF = "eof"  # the source half-closed: half-close the destination
    CLOSE = "close"  # the source is gone: close the destination after what is queued


def _reset(transport: asyncio.Transport | None) -> None:
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_LINGER)
    transport.abort()


class _Side(asyncio.Protocol):
    """One socket of a proxied connection: the client's or the upstream server's."""

    def __init__(self, link: _Link) -> None:
        self.link = link
        self.transport: asyncio.Transport | None = None
        self.done = False  # lost, or will never connect
        self.eof_in = False
        self.eof_out = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.link.side_up(self)

    def data_received(self, data: bytes) -> None:
        self.link.received(self, data)

    def eof_received(self) -> bool:
        self.eof_in = True
        self.link.received(self, _Signal.EOF)
        return True  # keep the write half open: TCP half-close is forwarded, not forced

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.done = True
        self.link.side_lost(self)

    def pause_writing(self) -> None:
        self.link.throttle(self, pause=True)

    def resume_writing(self) -> None:
        self.link.throttle(self, pause=False)

    def close_if_finished(self) -> None:
        if self.eof_in and self.eof_out and self.transport is not None:
            self.transport.close()


class _Pipe:
    """One direction of a connection, delaying delivery by the proxy's latency in order."""

    def __init__(self, dst: _Side) -> None:
        self._dst = dst
        self._queue: deque[tuple[float, bytes | _Signal]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def push(self, item: bytes | _Signal, delay: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        if self._queue:
            due = max(due, self._queue[-1][0])  # a latency cut must not reorder bytes
        self._queue.append((due, item))
        if self._timer is None:
            self.flush()

    def clear(self) -> None:
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def flush(self) -> None:
        self._timer = None
        if self._dst.transport is None and not self._dst.done:
            return  # upstream still connecting: side_up flushes
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._queue and self._queue[0][0] <= now:
            self._deliver(self._queue.popleft()[1])
        if self._queue:
            self._timer = loop.call_at(self._queue[0][0], self.flush)

    def _deliver(self, item: bytes | _Signal) -> None:
        transport = self._dst.transport
        if transport is None or transport.is_closing():
            return
        if isinstance(item, bytes):
            transport.write(item)
        elif item is _Signal.CLOSE:
            transport.close()
        elif transport.can_write_eof():
            try:
                transport.write_eof()
            except OSError:
                # The peer reset while this EOF waited in the latency queue: the socket is
                # gone, so drop it now instead of leaving the connection counted as live.
                transport.abort()
                return
            self._dst.eof_out = True
            self._dst.close_if_finished()


class _Link:
    """A proxied connection: the client side, the upstream side and a pipe each way."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.client = _Side(self)
        self.upstream = _Side(self)
        self._pipes = {
            id(self.client): _Pipe(self.upstream),
            id(self.upstream): _Pipe(self.client),
        }
        self.dead = False
        self.connecting: asyncio.Task[None] | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def other(self, side: _Side) -> _Side:
        return self.upstream if side is self.client else self.client

    def side_up(self, side: _Side) -> None:
        self._pipes[id(self.other(side))].flush()

    def received(self, side: _Side, item: bytes | _Signal) -> None:
        if self.dead or self.proxy.mode is Mode.BLACKHOLE:
            self.dead = True
            return
        self._pipes[id(side)].push(item, self.proxy.delay)

    def side_lost(self, side: _Side) -> None:
        self._pipes[id(self.other(side))].clear()  # nothing can reach a closed socket
        if self.dead or self.proxy.mode is Mode.BLACKHOLE:
            self.dead = True  # a blackhole swallows the FIN too
        else:
            self._pipes[id(side)].push(_Signal.CLOSE, self.proxy.delay)
        self._check_finished()

    def throttle(self, dst: _Side, *, pause: bool) -> None:
        src = self.other(dst).transport
        if src is None or src.is_closing():
            return
        if pause:
            src.pause_reading()
        else:
            src.resume_reading()

    def reset(self) -> None:
        self._stop_connecting()
        for pipe in self._pipes.values():
            pipe.clear()
        for side in (self.client, self.upstream):
            if side.transport is None:
                side.done = True
            _reset(side.transport)
        self._check_finished()

    def _stop_connecting(self) -> None:
        # Cancelling create_connection closes a socket it may already have opened.
        task = self.connecting
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    def end_blackhole(self) -> None:
        """A side that closed or vanished during the blackhole never told its peer, which
        now learns the hard way: a RST."""
        sides = (self.client, self.upstream)
        if self.dead and any(side.done or side.eof_in for side in sides):
            self.reset()

    def abort(self) -> None:
        self._stop_connecting()
        for side in (self.client, self.upstream):
            if side.transport is None:
                side.done = True
            else:
                side.transport.abort()
        self._check_finished()

    def _check_finished(self) -> None:
        if self.client.done and self.upstream.done and not self.finished.done():
            self.finished.set_result(None)
            for pipe in self._pipes.values():
                pipe.clear()
            self.proxy._links.discard(self)


class FaultProxy:
    """Forward TCP from ``host:port`` to ``target_host:target_port``, faults on command."""

    def __init__(
        self, target_host: str, target_port: int, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.target_host, self.target_port = target_host, target_port
        self.host = host
        self.port = port
        self.mode = Mode.PASS
        self.delay = 0.0
        #: Connections accepted since start, whatever happened to them.
        self.connections = 0
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def live(self) -> int:
        """Connections with at least one socket still open."""
        return len(self._links)

    def url_for(self, path: str = "/", scheme: str = "ws") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    async def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("the proxy is already started")
        self._loop = asyncio.get_running_loop()
        self._listen()

    async def close(self) -> None:
        """Stop listening, drop every connection and cancel all of the proxy's work."""
        self._unlisten()
        self._loop = None  # later mode changes must not listen again
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        links = list(self._links)
        for link in links:
            link.abort()
        if links:
            await asyncio.wait([link.finished for link in links], timeout=1.0)

    async def __aenter__(self) -> FaultProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- modes --------------------------------------------------------------------------
    def pass_through(self) -> None:
        """Forward everything again (with no added latency); listen again if refusing."""
        self._set(Mode.PASS)

    def latency(self, seconds: float) -> None:
        """Forward everything, each chunk ``seconds`` after it arrived, in order."""
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self._set(Mode.PASS, seconds)

    def blackhole(self) -> None:
        """Keep every socket open and forward nothing, not even a FIN or a close."""
        self._set(Mode.BLACKHOLE)

    def reset_all(self) -> None:
        """RST every live connection, and every new one until the mode changes."""
        self._set(Mode.RESET)
        self._reset_links()

    def reset_now(self) -> None:
        """RST every live connection once, then pass traffic again."""
        self._reset_links()
        self._set(Mode.PASS)

    def refuse(self) -> None:
        """Stop listening so connects fail fast; live connections are left alone."""
        self.mode, self.delay = Mode.REFUSE, 0.0
        self._unlisten()

    def flap(self) -> None:
        """Accept new connections and close them at once; live ones are left alone."""
        self._set(Mode.FLAP)

    def _set(self, mode: Mode, delay: float = 0.0) -> None:
        leaving_blackhole = self.mode is Mode.BLACKHOLE and mode is not Mode.BLACKHOLE
        self.mode, self.delay = mode, delay
        if self._listener is None and self._loop is not None:
            self._listen()
        if leaving_blackhole:
            for link in list(self._links):
                link.end_blackhole()

    def _reset_links(self) -> None:
        for link in list(self._links):
            link.reset()

    # --- accepting ----------------------------------------------------------------------
    def _listen(self) -> None:
        assert self._loop is not None
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            # The same port again after refuse(): clients keep their URL.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._loop.add_reader(sock.fileno(), self._accept)

    def _unlisten(self) -> None:
        if self._listener is not None and self._loop is not None:
            self._loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None

    def _accept(self) -> None:
        for _ in range(_ACCEPT_BATCH):
            if self._listener is None:
                return
            try:
                conn, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. EMFILE: the next readiness event retries
            self.connections += 1
            self._adopt(conn)

    def _adopt(self, conn: socket.socket) -> None:
        if self.mode is Mode.RESET:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_LINGER)
            conn.close()
            return
        if self.mode is Mode.FLAP:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            return
        conn.setblocking(False)
        link = _Link(self)
        self._links.add(link)
        task = asyncio.get_running_loop().create_task(self._connect(link, conn))
        link.connecting = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, link: _Link, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(lambda: link.client, conn)
            if self.mode is Mode.BLACKHOLE:
                link.dead = True  # the SYN would not have reached the server either
                link.upstream.done = True
                return
            await loop.create_connection(lambda: link.upstream, self.target_host, self.target_port)
        except OSError:
            if link.client.transport is None:
                conn.close()
            link.reset()  # the client sees the backend's refusal as a reset
        except asyncio.CancelledError:
            if link.client.transport is None:
                conn.close()
            link.upstream.done = True
            link.abort()
            raise
