"""A real Janus per test (its own config folder in ``tmp_path``, its own ports, room 1234)
and clients built by ``JanusBackend`` the way the manager builds them."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import adapters.backends.janus as janus_package
from adapters.backends.base import AudioIO, BackendContext
from adapters.backends.janus import (
    ClientOptions,
    JanusBackend,
    JanusMedia,
    JanusSignaling,
    LocalJanus,
    MediaOptions,
)
from fsm.domain import AudioSource, FloorLost, Joined, Member
from fsm.errors import LinkError, TransportError
from fsm.ports import Reply, Result
from tests.leaks import client_sockets, tasks_of

ROOM = "1234"
# Short keepalives so a dead link shows in about a second (2 noisy cores: bounds are loose).
FAST = ClientOptions(ping_interval=1.0, ping_timeout=1.0, keepalive_interval=2.0)


class Recorder:
    """SignalingEvents and MediaEvents that keep every report, in order, with waiters."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()

    def _add(self, kind: str, value: Any = None) -> None:
        self.log.append((kind, value))
        self._changed.set()

    def opened(self) -> None:
        self._add("opened")

    def failed(self, error: LinkError | TransportError) -> None:
        self._add("failed", error)

    def lost(self, error: LinkError) -> None:
        self._add("lost", error)

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

    def message(self, message: object) -> None:
        self._add("message", message)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.log]

    def last(self, kind: str) -> Any:
        return next(value for k, value in reversed(self.log) if k == kind)

    async def wait_for(
        self, test: Callable[[str, Any], bool], within: float = 10.0
    ) -> tuple[str, Any]:
        """The first report (old or new) for which ``test(kind, value)`` holds."""
        async with asyncio.timeout(within):
            seen = 0
            while True:
                for kind, value in self.log[seen:]:
                    if test(kind, value):
                        return kind, value
                seen = len(self.log)
                self._changed.clear()
                await self._changed.wait()


async def call(start: Callable[[Reply], None], within: float = 10.0) -> Result[Any]:
    """Start a port operation and wait for its reply."""
    future: asyncio.Future[Result[Any]] = asyncio.get_running_loop().create_future()

    def reply(result: Result[Any]) -> None:
        assert not future.done(), "a reply was called twice"
        future.set_result(result)

    start(reply)
    return await asyncio.wait_for(future, within)


async def value(start: Callable[[Reply], None], within: float = 10.0) -> Any:
    result = await call(start, within)
    assert result.error is None, repr(result.error)
    return result.value


@dataclass
class Client:
    """One connection's ports plus what it reported."""

    janus: LocalJanus
    signaling: JanusSignaling
    media: JanusMedia | None
    events: Recorder = field(default_factory=Recorder)
    media_events: Recorder = field(default_factory=Recorder)
    joined: Joined | None = None

    async def open(self, token: str = "", events: Recorder | None = None) -> str:
        """Open the link; returns "opened" or "failed"."""
        self.events = events or Recorder()
        self.signaling.open(self.janus.url, token, self.events)
        kind, _ = await self.events.wait_for(lambda k, _: k in ("opened", "failed"))
        return kind

    async def join(self, room: str = ROOM, resume_id: str | None = None) -> Joined:
        joined = await value(lambda r: self.signaling.join(room, resume_id, r))
        assert isinstance(joined, Joined)
        self.joined = joined
        return joined

    async def connect_media(self) -> None:
        assert self.media is not None
        self.media_events = Recorder()
        await value(lambda r: self.media.connect(self.media_events, r))  # type: ignore[union-attr]

    async def join_listing(self) -> list[Member]:
        """Who Janus lists in our room right now (``listparticipants``)."""
        a = self.signaling._a
        data, _ = await a.message({"request": "listparticipants", "room": a.room})
        return [Member(str(p["id"]), p.get("display")) for p in data["participants"]]

    @property
    def peer_id(self) -> str:
        assert self.joined is not None
        return self.joined.peer_id

    async def aclose(self) -> None:
        await self.signaling.aclose()
        if self.media is not None:
            await self.media.aclose()


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[LocalJanus]:
    if shutil.which("janus") is None:
        pytest.skip("needs Debian's janus (apt-get install janus)")
    async with LocalJanus(tmp_path / "janus") as server:
        yield server


@pytest.fixture
async def make_client(janus: LocalJanus) -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(
        *,
        audio: AudioIO | None = None,
        media: bool = False,
        server: LocalJanus | None = None,
        **backend: Any,
    ) -> Client:
        backend.setdefault("client", FAST)
        backend.setdefault("media_options", MediaOptions(liveness_timeout=3.0))
        ports = JanusBackend(**backend).build(BackendContext(ROOM, media=media, audio=audio))
        assert isinstance(ports.signaling, JanusSignaling)
        assert ports.media is None or isinstance(ports.media, JanusMedia)
        client = Client(server or janus, ports.signaling, ports.media)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    # Nothing of a closed client may outlive it: no socket to Janus, no task of ours.
    await asyncio.sleep(0.1)  # aiortc's closing callbacks need a few loop turns
    assert client_sockets(janus.config.ws_port) == 0
    package = Path(janus_package.__file__).parent
    assert tasks_of({str(f) for f in package.glob("*.py")}) == []


async def joined_client(make_client: MakeClient, **kwargs: Any) -> Client:
    client = await make_client(**kwargs)
    assert await client.open() == "opened"
    await client.join()
    return client


async def drop_websocket(client: Client) -> None:
    """Kill this client's TCP connection to Janus in the kernel (``ss -K``): Janus stays up
    and sees the socket die, the client sees a reset; nothing says goodbye."""
    link = client.signaling._a.link
    assert link is not None
    port = link._ws.transport.get_extra_info("sockname")[1]
    process = await asyncio.create_subprocess_exec(
        "ss",
        "-K",
        "dst",
        "127.0.0.1",
        "sport",
        "=",
        f":{port}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,  # "RTNETLINK: Invalid argument" for other sockets
    )
    assert await process.wait() == 0
