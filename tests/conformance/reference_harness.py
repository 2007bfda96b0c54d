"""The conformance harness of the reference backend: the reference server (with its SFU)
on loopback, and one ``FaultProxy`` per client in front of it so one link can be cut."""

from __future__ import annotations

import itertools

from adapters.backends.base import Backend
from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.server import PttServer, media_server, mint_token
from adapters.testing.conformance import Capabilities
from adapters.testing.faultproxy import FaultProxy

SECRET = "conformance-secret-" + "0123456789abcdef" * 4  # >= 32 bytes: PyJWT stays quiet
MAX_TALK_TIME = 2.0  # short enough to wait for, long enough for the other floor cases

#: Fast timeouts: a cut link is noticed at once (a reset), a dead one within about 1 s.
OPTIONS = SignalingOptions(
    open_timeout=2.0, request_timeout=2.0, ping_interval=0.5, ping_timeout=0.5, close_timeout=0.3
)


class ReferenceHarness:
    """Implements :class:`~adapters.testing.conformance.ConformanceHarness`."""

    backend: Backend = ReferenceBackend(OPTIONS)
    capabilities: Capabilities = Capabilities(
        cut_link=True, media=True, max_talk_time=MAX_TALK_TIME
    )

    def __init__(self) -> None:
        self._server: PttServer | None = None
        self._proxies: dict[str, FaultProxy] = {}
        self._channels = itertools.count(1)

    async def start(self) -> None:
        # grace covers the resume case; stall_timeout 0: the silent microphone is no talker
        # the kit would have to keep "audible".
        self._server = media_server(
            SECRET, grace=5.0, max_talk_time=MAX_TALK_TIME, stall_timeout=0, close_timeout=0.5
        )
        await self._server.start()

    async def stop(self) -> None:
        for proxy in self._proxies.values():
            await proxy.close()
        self._proxies.clear()
        if self._server is not None:
            await self._server.close()

    async def url(self, client: str) -> str:
        proxy = self._proxies.get(client)
        if proxy is None:
            assert self._server is not None, "start() the harness first"
            proxy = self._proxies[client] = FaultProxy("127.0.0.1", self._server.port)
            await proxy.start()
        return proxy.url_for(self._server.path if self._server else "/ptt")

    async def token(self, client: str, channel: str) -> str:
        return mint_token(SECRET, client, channel, 60.0)

    async def bad_token(self, client: str, channel: str) -> str:
        return mint_token("not-the-secret-" + "f" * 32, client, channel, 60.0)

    def fresh_channel(self) -> str:
        return f"conformance-{next(self._channels)}"

    async def cut_link(self, client: str) -> None:
        self._proxies[client].reset_now()
