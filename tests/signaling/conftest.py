"""Fixtures for the reference backend's signaling tests: a real PttServer, the fault proxy
in front of it, recorders for the link's ``LinkEvents`` and the port's ``SignalingEvents``,
and factories of links and ports that are always ``aclose``d.

Helpers are handed out through fixtures (this folder has no ``__init__.py``, so test
modules must not import this conftest by name).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.backends.reference import link as signaling_module
from adapters.backends.reference.link import SignalingOptions, WebSocketLink
from adapters.backends.reference.signaling import ReferenceSignaling
from adapters.server import PttServer, mint_token
from adapters.server.gate import Gate
from adapters.testing.faultproxy import FaultProxy
from fsm.domain import AudioSource, ChannelMessage, FloorLost, Member
from fsm.errors import LinkError
from fsm.ports import Result
from tests.leaks import client_sockets, tasks_of

SECRET = "signaling-secret-" + "0123456789abcdef" * 4
CHANNEL = "ops"
WAIT = 3.0  # upper bound for anything that should happen "soon"


# --- a recording LinkEvents ----------------------------------------------------------------
@dataclass
class Recorder:
    """Implements the link's ``LinkEvents``; every call is recorded with its loop time."""

    events: list[tuple[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def _add(self, kind: str, payload: Any) -> None:
        self.events.append((kind, payload))
        self.times.append(time.monotonic())
        self._changed.set()

    # LinkEvents
    def opened(self) -> None:
        self._add("opened", None)

    def failed(self, error: LinkError) -> None:
        self._add("failed", error)

    def lost(self, error: LinkError) -> None:
        self._add("lost", error)

    def notification(self, method: str, data: Mapping[str, Any]) -> None:
        self._add("notification", (method, dict(data)))

    # queries
    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def of(self, kind: str) -> list[Any]:
        return [payload for k, payload in self.events if k == kind]

    def notes(self, method: str | None = None) -> list[dict[str, Any]]:
        return [d for m, d in self.of("notification") if method is None or m == method]

    async def until(self, predicate: Callable[[], bool], within: float = WAIT) -> None:
        """Wait until ``predicate()`` holds, re-checking on every recorded event."""
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                if predicate():
                    return
                await self._changed.wait()

    async def first(self, kind: str, within: float = WAIT) -> Any:
        """The payload of the first ``kind`` event, waiting for it."""
        await self.until(lambda: kind in self.kinds(), within)
        return self.of(kind)[0]

    async def ended(self, within: float = WAIT) -> tuple[str, LinkError]:
        """Wait for the link's one terminal event (``failed`` or ``lost``)."""
        await self.until(lambda: bool({"failed", "lost"} & set(self.kinds())), within)
        kind, error = next((k, p) for k, p in self.events if k in ("failed", "lost"))
        return kind, error

    async def quiet(self, seconds: float = 0.2) -> None:
        """Assert that nothing more is recorded for ``seconds`` (absence needs a window)."""
        before = len(self.events)
        await asyncio.sleep(seconds)
        assert self.events[before:] == [], f"unexpected late events: {self.events[before:]}"


class PortRecorder(Recorder):
    """Implements ``fsm.ports.SignalingEvents`` (the same queries as :class:`Recorder`)."""

    def notification(self, method: str, data: Mapping[str, Any]) -> None:
        raise AssertionError("the port reports domain events, never a raw notification")

    def member_joined(self, member: Member) -> None:
        self._add("member_joined", member)

    def member_left(self, peer_id: str) -> None:
        self._add("member_left", peer_id)

    def speaker_changed(self, peer_id: str | None) -> None:
        self._add("speaker_changed", peer_id)

    def floor_lost(self, tx_id: str | None, why: FloorLost) -> None:
        self._add("floor_lost", (tx_id, why))

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        self._add("sources_changed", tuple(sources))

    def message(self, message: ChannelMessage) -> None:
        self._add("message", message)


class Replies:
    """A ``Reply`` that records every call (to check "exactly once" and "not synchronous")."""

    def __init__(self) -> None:
        self.results: list[Result[Any]] = []
        self._changed = asyncio.Event()

    def __call__(self, result: Result[Any]) -> None:
        self.results.append(result)
        self._changed.set()

    async def wait(self, n: int = 1, within: float = WAIT) -> list[Result[Any]]:
        async with asyncio.timeout(within):
            while len(self.results) < n:
                self._changed.clear()
                await self._changed.wait()
        return self.results


async def eventually(predicate: Callable[[], bool], within: float = WAIT) -> None:
    """Poll ``predicate`` (for state with no change notification, e.g. socket counts)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - no event to wait on for these
            await asyncio.sleep(0.01)


def adapter_tasks() -> list[asyncio.Task[Any]]:
    """Running tasks that belong to the link or to its websockets client."""
    return tasks_of({signaling_module.__file__})


# --- servers, proxy, tokens, adapters ------------------------------------------------------
@dataclass
class Handshake:
    path: str
    headers: dict[str, list[str]]


@pytest.fixture
def handshakes(monkeypatch: pytest.MonkeyPatch) -> list[Handshake]:
    """Every HTTP upgrade request the server's gate saw (path and headers)."""
    seen: list[Handshake] = []
    original = Gate.process_request

    def recording(self: Gate, conn: Any, request: Any) -> Any:
        headers: dict[str, list[str]] = {}
        for key, value in request.headers.raw_items():
            headers.setdefault(key.lower(), []).append(value)
        seen.append(Handshake(request.path, headers))
        return original(self, conn, request)

    monkeypatch.setattr(Gate, "process_request", recording)
    return seen


#: Test defaults: the keepalives are out of the way unless a test asks for them.
QUICK: dict[str, Any] = {
    "open_timeout": 2.0,
    "request_timeout": 2.0,
    "ping_interval": 30.0,
    "ping_timeout": 30.0,
    "close_timeout": 0.3,
}


class Env:
    """One test's world: the server, the proxy in front of it, and links to close."""

    Recorder = Recorder
    PortRecorder = PortRecorder
    Replies = Replies

    def __init__(self, server: PttServer, proxy: FaultProxy, handshakes: list[Handshake]):
        self.server = server
        self.proxy = proxy
        self.handshakes = handshakes
        self.made: list[WebSocketLink | ReferenceSignaling] = []

    @property
    def url(self) -> str:
        """The server's URL through the proxy."""
        return self.proxy.url_for(self.server.path)

    def token(self, user: str = "alice", channel: str = CHANNEL, ttl: float = 60.0) -> str:
        return mint_token(SECRET, user, channel, ttl)

    def link(self, **options: Any) -> WebSocketLink:
        sig = WebSocketLink(SignalingOptions(**{**QUICK, **options}))
        self.made.append(sig)
        return sig

    def port(self, **options: Any) -> ReferenceSignaling:
        port = ReferenceSignaling(WebSocketLink(SignalingOptions(**{**QUICK, **options})))
        self.made.append(port)
        return port

    async def open_port(
        self, user: str = "alice", *, ttl: float = 60.0, **options: Any
    ) -> tuple[ReferenceSignaling, PortRecorder]:
        """Open a ``ReferenceSignaling`` through the proxy as ``user``; wait for ``opened``."""
        port, rec = self.port(**options), PortRecorder()
        port.open(self.url, self.token(user, ttl=ttl), rec)
        await rec.first("opened")
        return port, rec

    async def open(
        self, user: str = "alice", *, join: bool = False, ttl: float = 60.0, **options: Any
    ) -> tuple[WebSocketLink, Recorder]:
        """Open a link through the proxy as ``user`` and wait for ``opened``."""
        sig = self.link(**options)
        rec = Recorder()
        sig.open(self.url, self.token(user, ttl=ttl), rec)
        await rec.first("opened")
        assert sig.is_open
        if join:
            await sig.call("join", {"channel": CHANNEL})
        return sig, rec

    until = staticmethod(eventually)
    adapter_tasks = staticmethod(adapter_tasks)

    def client_sockets(self) -> int:
        """The client's sockets to the proxy still open in this process."""
        return client_sockets(self.proxy.port)

    async def settle(
        self, sig: WebSocketLink | ReferenceSignaling, *, proxy_live: bool = True
    ) -> None:
        """aclose, then: no adapter task runs, no client socket is open, and (unless told
        otherwise) the proxy holds no connection either."""
        await asyncio.wait_for(sig.aclose(), 3.0)
        assert adapter_tasks() == [], "aclose() left adapter tasks running"
        assert self.client_sockets() == 0, "aclose() left a socket open"
        if proxy_live:
            if self.proxy.mode == "blackhole":
                self.proxy.pass_through()  # resets what a blackhole kept half-open
            await eventually(lambda: self.proxy.live == 0)

    @staticmethod
    def closed_port() -> int:
        """A loopback port nothing listens on."""
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        return port


MakeEnv = Callable[..., Awaitable[Env]]


@pytest.fixture
async def make_env(handshakes: list[Handshake]) -> AsyncIterator[MakeEnv]:
    """Worlds with a server built from the given ``PttServer`` options (default: no grace
    period). It fails the test if the loop caught an unhandled error (a task exception
    never retrieved, a crashing callback) anywhere but in the proxy."""
    loop = asyncio.get_running_loop()
    caught: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: caught.append(context))
    worlds: list[Env] = []

    async def make(**server_options: Any) -> Env:
        server = PttServer(SECRET, **{"grace": 0.0, "close_timeout": 0.5, **server_options})
        await server.start()
        proxy = FaultProxy("127.0.0.1", server.port)
        await proxy.start()
        worlds.append(Env(server, proxy, handshakes))
        return worlds[-1]

    try:
        yield make
    finally:
        for world in worlds:
            for sig in world.made:
                await asyncio.wait_for(sig.aclose(), 5.0)
            await world.proxy.close()
            await world.server.close()
        gc.collect()  # "Task exception was never retrieved" is reported on collection
        loop.set_exception_handler(None)
    unhandled = list(caught)
    assert unhandled == [], f"unhandled errors on the loop: {unhandled}"


@pytest.fixture
async def env(make_env: MakeEnv) -> Env:
    """The world of one test: a server without grace period behind a fault proxy."""
    return await make_env()
