"""The conformance harness of the Janus backend: one real Janus (``LocalJanus``, with
``token_auth``) for the whole test session, a fresh non-permanent AudioBridge room per case
(created and destroyed through the admin API), and one ``FaultProxy`` per client in front
of Janus's WebSocket so one client's link can be cut while Janus stays up."""

from __future__ import annotations

import itertools
import secrets

from adapters.backends.base import Backend
from adapters.backends.janus import ClientOptions, JanusBackend, LocalJanus, MediaOptions, Room
from adapters.testing.conformance import Capabilities
from adapters.testing.faultproxy import FaultProxy

GOOD_TOKEN = "conformance-" + secrets.token_hex(8)  # added with add_token at session start
#: Fast timeouts: a cut link is seen at once (a reset), a dead one within about a second.
CLIENT = ClientOptions(
    open_timeout=2.0,
    request_timeout=2.0,
    keepalive_interval=2.0,
    ping_interval=0.5,
    ping_timeout=0.5,
    close_timeout=0.3,
)


class JanusHarness:
    """Implements :class:`~adapters.testing.conformance.ConformanceHarness` on a Janus the
    caller started (``janus``) and keeps for the session."""

    backend: Backend = JanusBackend(client=CLIENT, media_options=MediaOptions(liveness_timeout=3.0))
    # max_talk_time None: a client-side floor has no server revocation to wait for (the
    # machine enforces the limit; tests/e2e_janus proves that end to end).
    capabilities: Capabilities = Capabilities(cut_link=True, media=True, patience=8.0)

    _rooms = itertools.count(100_000 + 1000 * secrets.randbelow(1000))

    def __init__(self, janus: LocalJanus) -> None:
        self.janus = janus
        self.room: int | None = None
        self._proxies: dict[str, FaultProxy] = {}

    async def start(self) -> None:
        """A fresh room for this case (the Janus itself runs for the session)."""
        self.room = next(self._rooms)
        await self.janus.create_room(Room(self.room, description="conformance"))

    async def stop(self) -> None:
        for proxy in self._proxies.values():
            await proxy.close()
        self._proxies.clear()
        if self.room is not None and self.janus.running:
            await self.janus.destroy_room(self.room)
        self.room = None

    async def url(self, client: str) -> str:
        proxy = self._proxies.get(client)
        if proxy is None:
            proxy = self._proxies[client] = FaultProxy("127.0.0.1", self.janus.config.ws_port)
            await proxy.start()
        return proxy.url_for("/")

    async def token(self, client: str, channel: str) -> str:
        return GOOD_TOKEN

    async def bad_token(self, client: str, channel: str) -> str:
        return "conformance-never-added"

    def fresh_channel(self) -> str:
        """The room :meth:`start` created (one channel per case: the kit asks once)."""
        assert self.room is not None, "start() the harness first"
        return str(self.room)

    async def cut_link(self, client: str) -> None:
        self._proxies[client].reset_now()
