"""A router and a factory of clients whose ``SfuMedia`` is connected (and, unless told
otherwise, sending its microphone) in channel "ops"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from adapters.backends.reference.media.sfu_media import SfuMedia
from adapters.server.sfu import AiortcRouter

from .support import Events, RouterRequester, ToneAudio, outcome

CHANNEL = "ops"


@dataclass
class Client:
    peer_id: str
    media: SfuMedia
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
        media = SfuMedia(requester, audio, liveness_timeout=liveness_timeout)
        client = Client(peer_id, media, audio, Events(), requester)
        clients.append(client)
        connected = await outcome(lambda reply: media.connect(client.events, reply))
        assert connected.ok, connected.error
        if produce:
            attached = await outcome(media.attach_microphone)
            assert attached.ok, attached.error
            assert media.producer_id is not None
            client.producer_id = media.producer_id
        return client

    yield make
    for client in clients:
        client.media.close()
        await client.media.wait_closed()
        await client.audio.aclose()
