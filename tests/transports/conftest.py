"""A router and a factory of connected clients (created, producing, in channel "ops")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from adapters.backends.reference.media import AiortcTransports
from adapters.server.sfu import AiortcRouter

from .support import Events, RouterRequester, ToneAudio, outcome

CHANNEL = "ops"


@dataclass
class Client:
    peer_id: str
    transports: AiortcTransports
    audio: ToneAudio
    events: Events
    requester: RouterRequester
    producer_id: str = ""


MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def router() -> AsyncIterator[AiortcRouter]:
    router = AiortcRouter()
    yield router
    await router.close()


@pytest.fixture
async def make_client(router: AiortcRouter) -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(
        peer_id: str, freq: float = 0.0, liveness_timeout: float = 3.0, produce: bool = True
    ) -> Client:
        router.join_channel(peer_id, CHANNEL)
        requester = RouterRequester(router, peer_id)
        audio = ToneAudio(freq)
        transports = AiortcTransports(requester, audio, liveness_timeout=liveness_timeout)
        client = Client(peer_id, transports, audio, Events(), requester)
        clients.append(client)
        created = await outcome(
            lambda reply: transports.create(router.capabilities(), client.events, reply)
        )
        assert created.ok, created.error
        if produce:
            produced = await outcome(transports.produce)
            assert produced.ok, produced.error
            client.producer_id = produced.value["producer_id"]
        return client

    yield make
    for client in clients:
        client.transports.close()
        await client.transports.wait_closed()
        await client.audio.aclose()
