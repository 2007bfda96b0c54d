"""A real Janus per test and real clients on it: ``ConnectionManager(backend=JanusBackend)``
with aiortc media and ``SoundDeviceAudio`` (a ``tone:HZ`` microphone, no speaker, a
:class:`TimedTap` of everything heard), each behind its own ``FaultProxy`` so one client's
WebSocket can be reset while Janus stays up.

The sound analysis (``TimedTap``, ``hears``, the in-process ``Trace``) is the reference
media e2e's own (``tests/e2e/test_e2e_media.py``), imported, not copied."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import adapters.backends.janus as janus_package
from adapters.backends.janus import (
    ClientOptions,
    JanusBackend,
    JanusMedia,
    LocalJanus,
    MediaOptions,
)
from adapters.devices.audio import SoundDeviceAudio
from adapters.manager import ConnectionManager
from adapters.testing.faultproxy import FaultProxy
from fsm import FixedSchedule
from fsm.events import StateChanged
from tests.e2e.test_e2e_media import TimedTap, Trace, is_state, until
from tests.leaks import tasks_of

ROOM = "1234"  # the permanent room of LocalJanus's configuration: it survives a restart
SCHEDULE = (0.1, 0.2, 0.4)
WAIT = 8.0  # "soon" on a loaded 2-core machine
#: Fast link timeouts: a dead WebSocket shows within about a second.
CLIENT = ClientOptions(
    open_timeout=2.0,
    request_timeout=2.0,
    keepalive_interval=2.0,
    ping_interval=0.5,
    ping_timeout=0.5,
    close_timeout=0.3,
)
MEDIA = MediaOptions(connect_timeout=5.0, liveness_timeout=2.0)


class Transitions:
    """Every transition's event name (targetless ones too, which make no StateChanged)."""

    def __init__(self) -> None:
        self.log: list[tuple[float, str]] = []

    def after_transition(self, event: Any) -> None:
        self.log.append((time.monotonic(), getattr(event, "id", str(event))))

    def times(self, name: str) -> list[float]:
        return [t for t, event in self.log if event == name]


@dataclass
class Peer:
    name: str
    manager: ConnectionManager
    trace: Trace
    transitions: Transitions
    tap: TimedTap
    proxy: FaultProxy
    connect_seconds: float = 0.0

    @property
    def media(self) -> JanusMedia:
        media = self.manager.machine.ports.media
        assert isinstance(media, JanusMedia)
        return media

    @property
    def peer_id(self) -> str:
        peer_id = self.manager.channel.peer_id
        assert peer_id is not None
        return peer_id


class Rig:
    """One test's Janus, proxies and clients; ``finish`` checks nothing was left behind."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.janus: LocalJanus | None = None
        self.peers: list[Peer] = []
        self.proxies: list[FaultProxy] = []

    async def start(self, **options: Any) -> LocalJanus:
        self.janus = LocalJanus(self.folder / "janus", **options)
        await self.janus.start()
        return self.janus

    async def peer(
        self,
        name: str,
        source: str,
        *,
        token: str = "unchecked",  # Janus ignores a token unless token_auth is on
        token_provider: Callable[[], Awaitable[str]] | None = None,
        wait: bool = True,
        **backend: Any,
    ) -> Peer:
        """A client through its own proxy (connected unless ``wait=False``)."""
        assert self.janus is not None
        proxy = FaultProxy("127.0.0.1", self.janus.config.ws_port)
        await proxy.start()
        self.proxies.append(proxy)
        tap = TimedTap()
        backend.setdefault("client", CLIENT)
        backend.setdefault("media_options", MEDIA)
        backend.setdefault("display", name)
        manager = ConnectionManager(
            proxy.url_for("/"),
            channel=ROOM,
            token=token,
            token_provider=token_provider,
            audio=SoundDeviceAudio(source, output=False, tap=tap),
            backoff=FixedSchedule(SCHEDULE),
            backend=JanusBackend(**backend),
            log_transitions=False,
        )
        trace, transitions = Trace(), Transitions()
        manager.add_listener(trace)
        manager.add_listener(transitions)
        peer = Peer(name, manager, trace, transitions, tap, proxy)
        self.peers.append(peer)
        started = time.monotonic()
        await manager.connect()
        if wait:
            at, _ = await trace.wait(StateChanged, where=is_state("connected"), within=WAIT)
            peer.connect_seconds = at - started
            print(f"{name} connect -> connected: {peer.connect_seconds * 1000:.0f} ms")
        return peer

    async def close(self) -> None:
        for peer in self.peers:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(WAIT):
                    await peer.manager.disconnect()
        for proxy in self.proxies:
            await proxy.close()
        if self.janus is not None:
            await self.janus.aclose()

    async def finish(self) -> None:
        """Disconnect everything; then no task of the Janus adapter is left running."""
        for peer in self.peers:
            async with asyncio.timeout(WAIT):
                await peer.manager.disconnect()
            assert peer.manager.state == "disconnected"
        package = Path(janus_package.__file__).parent
        files = {str(f) for f in package.glob("*.py")}
        with contextlib.suppress(TimeoutError):
            await until(lambda: not tasks_of(files), 3.0)
        assert tasks_of(files) == []


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    if shutil.which("janus") is None:
        pytest.skip("needs Debian's janus (apt-get install janus)")
    r = Rig(tmp_path)
    try:
        yield r
    finally:
        await r.close()
