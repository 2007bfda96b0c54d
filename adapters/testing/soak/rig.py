"""The soak's world: the real reference server (restartable on its port), one
:class:`~adapters.testing.faultproxy.FaultProxy` per client, and real
``ConnectionManager``s watched by a :class:`Watch` listener."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.manager import ConnectionManager
from adapters.server import PttServer, media_server, mint_token
from fsm import FixedSchedule
from fsm.events import ChannelChanged, PttEvent, StateChanged
from fsm.observe import Listener

from ..faultproxy import FaultProxy

SECRET = "soak-secret-" + "0123456789abcdef" * 4  # >= 32 bytes: PyJWT stays quiet
CHANNEL = "soak"
#: Fast keepalives: a dead link is seen within about 0.6 s, a blackholed dial in 1 s.
SIGNALING: dict[str, Any] = {
    "ping_interval": 0.3,
    "ping_timeout": 0.3,
    "open_timeout": 1.0,
    "request_timeout": 1.0,
    "close_timeout": 0.3,
}
SCHEDULE = (0.1, 0.2, 0.4)
#: The key of the soak's counter inside a channel message.
SEQ = "soak_seq"


class Watch(Listener):
    """One client's view: how often it (re)entered ``connected``, and the soak messages
    it received, counted by sequence number (a duplicate counts twice)."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self.state = "idle"
        self.entries = 0
        self.received: Counter[int] = Counter()
        self.sent: list[int] = []  # the sequence numbers this client sent
        self.errors: list[str] = []
        self._changed = changed

    def on_event(self, event: PttEvent) -> None:
        if isinstance(event, StateChanged):
            if event.state == "connected" and self.state != "connected":
                self.entries += 1
            if event.state in ("error", "disconnected") and self.state != event.state:
                self.errors.append(f"{event.state}: {event.reason}")
            self.state = event.state
        elif isinstance(event, ChannelChanged) and event.kind == "message":
            body = event.data.get("data")
            seq = body.get(SEQ) if isinstance(body, dict) else None
            if isinstance(seq, int):
                self.received[seq] += 1
        self._changed()


@dataclass
class Client:
    name: str
    manager: ConnectionManager
    watch: Watch
    proxy: FaultProxy
    media: bool = False

    @property
    def connected(self) -> bool:
        return self.manager.state == "connected"


@dataclass
class Rig:
    """Start with :meth:`start`, end with :meth:`close`; ``clients`` signaling-only
    managers plus ``media_clients`` with aiortc media (a ``tone:440`` microphone)."""

    clients: int = 3
    media_clients: int = 0
    grace: float = 30.0
    members: list[Client] = field(default_factory=list)
    server: PttServer | None = None
    restarts: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.server = await self._new_server(0)
        for n in range(self.clients + self.media_clients):
            proxy = FaultProxy("127.0.0.1", self.server.port)
            await proxy.start()
            self.members.append(self._client(f"user{n}", proxy, media=n >= self.clients))
        for client in self.members:
            await client.manager.connect()
        await self.until(lambda: all(c.connected for c in self.members), 30.0)

    async def restart_server(self) -> None:
        """Close the server (1001 to every client) and start a fresh one on its port."""
        assert self.server is not None
        port = self.server.port
        await self.server.close()
        self.server = await self._new_server(port)
        self.restarts += 1

    async def until(self, predicate: Callable[[], bool], within: float) -> bool:
        """Wait for ``predicate`` (re-checked whenever a client reports); False on timeout."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not predicate():
                    self._changed.clear()
                    if predicate():
                        break
                    await self._changed.wait()
        return predicate()

    def footprint(self) -> dict[str, int]:
        return self.server.footprint() if self.server is not None else {}

    async def close(self) -> None:
        for client in self.members:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.manager.disconnect(), 10.0)
        for client in self.members:
            await client.proxy.close()
        if self.server is not None:
            await self.server.close()

    # --- building ----------------------------------------------------------------------
    async def _new_server(self, port: int) -> PttServer:
        options: dict[str, Any] = {"grace": self.grace, "close_timeout": 0.5, "max_rps": 1000}
        if self.media_clients:
            server = media_server(SECRET, port=port, **options)
        else:
            server = PttServer(SECRET, port=port, **options)
        await server.start()
        return server

    def _client(self, user: str, proxy: FaultProxy, *, media: bool) -> Client:
        audio = None
        if media:
            from adapters.devices.audio import SoundDeviceAudio

            audio = SoundDeviceAudio("tone:440", output=False)
        manager = ConnectionManager(
            proxy.url_for("/ptt"),
            channel=CHANNEL,
            token=mint_token(SECRET, user, CHANNEL, 24 * 3600.0),
            backoff=FixedSchedule(SCHEDULE),
            media=media,
            audio=audio,
            backend=ReferenceBackend(SignalingOptions(**SIGNALING)),
            stable_after=30.0,
            log_transitions=False,
        )
        watch = Watch(self._changed.set)
        manager.add_listener(watch)
        return Client(user, manager, watch, proxy, media)
