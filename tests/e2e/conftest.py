"""Fixtures for the end-to-end tests: a real ``PttServer``, the ``FaultProxy`` in front of
it and real ``ConnectionManager``s (signaling only) on loopback, recorded by a listener.

Helpers are handed out through the ``world`` fixture (this folder has no ``__init__.py``,
so test modules must not import this conftest by name).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import fsm
from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.manager import ConnectionManager
from adapters.server import PttServer, mint_token
from adapters.testing.faultproxy import FaultProxy
from fsm.events import PttEvent, Reconnecting, StateChanged
from fsm.observe import Recorder
from tests.leaks import client_sockets, tasks_of

SECRET = "e2e-secret-" + "0123456789abcdef" * 4  # >= 32 bytes: PyJWT stays quiet
CHANNEL = "ops"
WAIT = 5.0  # upper bound for anything that should happen "soon" (loaded 2-core machine)

#: Fast keepalives and timeouts: a dead link is seen within 0.6 s.
QUICK: dict[str, Any] = {
    "ping_interval": 0.3,
    "ping_timeout": 0.3,
    "open_timeout": 1.0,
    "request_timeout": 1.0,
    "close_timeout": 0.3,
}
SCHEDULE = (0.1, 0.2, 0.4)


class Trace(Recorder):
    """Every typed event of one manager, with the loop time it arrived at; awaitable."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._changed = asyncio.Event()

    def on_event(self, event: PttEvent) -> None:
        super().on_event(event)
        self.times.append(asyncio.get_running_loop().time())
        self._changed.set()

    # --- queries ---------------------------------------------------------------------------
    def changes(self, since: int = 0) -> list[StateChanged]:
        return [e for e in self.events[since:] if isinstance(e, StateChanged)]

    def states(self, since: int = 0) -> list[str]:
        """Top-level states entered, in order (repeats within one state collapsed)."""
        out: list[str] = []
        for change in self.changes(since):
            if not out or out[-1] != change.state:
                out.append(change.state)
        return out

    def details(self, since: int = 0) -> list[str]:
        """Innermost states entered, in order (every transition with a target)."""
        return [change.detail for change in self.changes(since)]

    def retries(self, since: int = 0) -> list[Reconnecting]:
        return [e for e in self.events[since:] if isinstance(e, Reconnecting)]

    def time_of(self, event: PttEvent) -> float:
        return self.times[next(i for i, e in enumerate(self.events) if e is event)]

    # --- waiting ---------------------------------------------------------------------------
    async def until(self, predicate: Callable[[], bool], within: float = WAIT) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                if predicate():
                    return
                await self._changed.wait()

    async def reach(
        self, state: str, detail: str | None = None, *, since: int = 0, within: float = WAIT
    ) -> StateChanged:
        """The first ``StateChanged`` into ``state`` (and ``detail``) at index >= ``since``."""

        def found() -> StateChanged | None:
            for change in self.changes(since):
                if change.state == state and (detail is None or change.detail == detail):
                    return change
            return None

        try:
            await self.until(lambda: found() is not None, within)
        except TimeoutError:
            seen = [(c.state, c.detail, c.event) for c in self.changes(since)]
            raise AssertionError(f"never reached {state}/{detail}; last: {seen[-12:]}") from None
        change = found()
        assert change is not None
        return change

    async def retry(self, attempt: int, *, since: int = 0, within: float = WAIT) -> Reconnecting:
        """The ``Reconnecting`` event of attempt ``attempt`` at index >= ``since``."""
        await self.until(lambda: any(r.attempt == attempt for r in self.retries(since)), within)
        return next(r for r in self.retries(since) if r.attempt == attempt)


async def eventually(predicate: Callable[[], bool], within: float = WAIT) -> None:
    """Poll ``predicate`` (for things with no change notification: counts, sockets)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on for these
            await asyncio.sleep(0.01)


async def steady(value: Callable[[], Any], seconds: float) -> Any:
    """Assert that ``value()`` does not change for ``seconds``; return it."""
    before = value()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        await asyncio.sleep(0.02)
        assert value() == before, f"changed during the quiet window: {before} -> {value()}"
    return before


def client_tasks() -> list[asyncio.Task[Any]]:
    """Running tasks of the signaling adapter (the reference link and its port), its token
    provider or its websockets client."""
    from adapters.backends.reference import link, signaling
    from adapters.devices import tokens

    return tasks_of({link.__file__, signaling.__file__, tokens.__file__})


class World:
    """One test's world: the server, the proxy in front of it, the clients to close."""

    Trace = Trace
    eventually = staticmethod(eventually)
    steady = staticmethod(steady)
    client_tasks = staticmethod(client_tasks)
    QUICK = QUICK
    SCHEDULE = SCHEDULE
    SECRET = SECRET
    CHANNEL = CHANNEL

    def __init__(self) -> None:
        self.servers: list[PttServer] = []
        self.managers: list[ConnectionManager] = []
        self._proxy: FaultProxy | None = None

    # --- the server side -------------------------------------------------------------------
    @property
    def server(self) -> PttServer:
        """The server started last."""
        return self.servers[-1]

    @property
    def proxy(self) -> FaultProxy:
        assert self._proxy is not None
        return self._proxy

    async def start_server(self, **options: Any) -> PttServer:
        options.setdefault("grace", 5.0)
        options.setdefault("close_timeout", 0.5)
        server = PttServer(SECRET, **options)
        await server.start()
        self.servers.append(server)
        return server

    async def start(self, **server_options: Any) -> World:
        """A server and the proxy in front of it."""
        server = await self.start_server(**server_options)
        self._proxy = FaultProxy("127.0.0.1", server.port)
        await self._proxy.start()
        return self

    async def restart_server(self, **options: Any) -> PttServer:
        """Close the server (1001 to every client) and start a new one on the same port."""
        old = self.server
        port = old.port
        await old.close()
        return await self.start_server(port=port, **options)

    def client_sockets(self) -> int:
        """This process's sockets connected to the proxy: the clients' ends."""
        return client_sockets(self.proxy.port)

    @property
    def url(self) -> str:
        return self.proxy.url_for("/ptt")

    def handshakes(self) -> int:
        """Every handshake any of this test's servers answered, whatever the outcome."""
        return sum(sum(s.stats.handshakes.values()) for s in self.servers)

    @staticmethod
    def token(
        user: str = "alice", channel: str = CHANNEL, *, secret: str = SECRET, ttl: float = 60.0
    ) -> str:
        return mint_token(secret, user, channel, ttl)

    # --- the client side -------------------------------------------------------------------
    def client(
        self,
        user: str = "alice",
        *,
        token: str | None = None,
        token_provider: Callable[[], Awaitable[str]] | None = None,
        schedule: tuple[float, ...] = SCHEDULE,
        max_attempts: int | None = None,
        stable_after: float = 30.0,
        **signaling: Any,
    ) -> tuple[ConnectionManager, Trace]:
        """A signaling-only manager through the proxy, with a ``Trace`` listening.

        ``token`` defaults to a good one for ``user``; ``signaling`` overrides ``QUICK``."""
        options = SignalingOptions(**{**QUICK, **signaling})  # the backend sets the channel
        manager = ConnectionManager(
            self.url,
            channel=CHANNEL,
            token=self.token(user) if token is None else token,
            token_provider=token_provider,
            backoff=fsm.FixedSchedule(schedule, max_attempts=max_attempts),
            media=False,
            backend=ReferenceBackend(options),
            stable_after=stable_after,
            log_transitions=False,
        )
        trace = Trace()
        manager.add_listener(trace)
        self.managers.append(manager)
        return manager, trace

    async def connected(
        self, user: str = "alice", **options: Any
    ) -> tuple[ConnectionManager, Trace]:
        """A client that has connected and joined."""
        manager, trace = self.client(user, **options)
        await manager.connect()
        await trace.reach("connected")
        return manager, trace

    async def close(self) -> None:
        for manager in self.managers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(manager.disconnect(), WAIT)
        if self._proxy is not None:
            await self._proxy.close()
        for server in self.servers:
            await server.close()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    try:
        yield w
    finally:
        await w.close()


@pytest.fixture
async def started(world: World) -> World:
    """The default world: a server (5 s grace) behind a pass-through proxy."""
    return await world.start()
