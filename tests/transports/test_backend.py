"""``ReferenceBackend`` end to end: the ports it builds, against the real media server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.backends.base import BackendContext
from adapters.backends.reference import ReferenceBackend, SfuMedia, SignalingOptions
from adapters.backends.reference.signaling import ReferenceSignaling
from adapters.server import PttServer, media_server, mint_token
from fsm.domain import AudioSource, FloorAnswer, Joined
from fsm.errors import LinkError
from fsm.ports import Media, Signaling

from .support import Events, ToneAudio, dominant_frequency, outcome, until

SECRET = "backend-secret-" + "0123456789abcdef" * 4
OPTIONS = SignalingOptions(open_timeout=3.0, request_timeout=3.0, ping_interval=30.0)


@dataclass
class Facts:
    """``SignalingEvents`` that keeps what the machine would need from these tests."""

    is_open: asyncio.Event = field(default_factory=asyncio.Event)
    failures: list[LinkError] = field(default_factory=list)
    sources: list[tuple[AudioSource, ...]] = field(default_factory=list)
    speakers: list[str | None] = field(default_factory=list)

    def opened(self) -> None:
        self.is_open.set()

    def failed(self, error: LinkError) -> None:
        self.failures.append(error)

    def lost(self, error: LinkError) -> None:
        pass

    def member_joined(self, member: Any) -> None:
        pass

    def member_left(self, peer_id: str) -> None:
        pass

    def speaker_changed(self, peer_id: str | None) -> None:
        self.speakers.append(peer_id)

    def floor_lost(self, tx_id: str | None, why: Any) -> None:
        pass

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        self.sources.append(tuple(sources))

    def message(self, message: Any) -> None:
        pass


@dataclass
class Side:
    signaling: ReferenceSignaling
    media: SfuMedia
    audio: ToneAudio
    facts: Facts
    joined: Joined | None = None


@pytest.fixture
async def server() -> AsyncIterator[PttServer]:
    server = media_server(SECRET, grace=0.0, close_timeout=0.5)
    await server.start()
    yield server
    await server.close()


async def connected(server: PttServer, user: str, freq: float = 0.0) -> Side:
    """Build the ports, open, join, connect the media and attach the microphone."""
    audio = ToneAudio(freq)
    ports = ReferenceBackend(OPTIONS).build(BackendContext("ops", audio=audio))
    assert isinstance(ports.signaling, ReferenceSignaling)
    assert isinstance(ports.media, SfuMedia)
    side = Side(ports.signaling, ports.media, audio, Facts())
    side.signaling.open(server.url, mint_token(SECRET, user, "ops", 60), side.facts)
    await asyncio.wait_for(side.facts.is_open.wait(), 3.0)
    joined = await outcome(lambda reply: side.signaling.join("ops", None, reply))
    assert isinstance(joined.value, Joined), joined
    side.joined = joined.value
    assert (await outcome(lambda reply: side.media.connect(Events(), reply))).ok
    assert (await outcome(side.media.attach_microphone)).ok
    return side


async def close(*sides: Side) -> None:
    for side in sides:
        side.media.close()
        await side.media.wait_closed()
        await side.signaling.aclose()
        await side.audio.aclose()


def test_backend_declares_what_the_reference_server_does() -> None:
    backend = ReferenceBackend()
    assert backend.name == "reference"
    assert (backend.features.floor, backend.features.resume) == ("server", True)
    assert backend.features.messages is True
    ports = backend.build(BackendContext("ops", media=False))
    assert isinstance(ports.signaling, Signaling)
    assert ports.media is None
    with_audio = backend.build(BackendContext("ops", audio=ToneAudio()))
    assert isinstance(with_audio.media, Media)
    assert with_audio.signaling is not ports.signaling  # a fresh link per connection


async def test_channel_header_comes_from_the_context(server: PttServer) -> None:
    ports = ReferenceBackend(OPTIONS).build(BackendContext("elsewhere", media=False))
    facts = Facts()
    ports.signaling.open(server.url, mint_token(SECRET, "alice", "ops", 60), facts)
    assert await until(lambda: bool(facts.failures), within=3.0)
    assert facts.failures[0].status == 403  # the server refused the channel at the handshake
    assert isinstance(ports.signaling, ReferenceSignaling)
    await ports.signaling.aclose()


async def test_talk_and_listen_through_the_built_ports(server: PttServer) -> None:
    alice = await connected(server, "alice", freq=440.0)
    bob = await connected(server, "bob")
    try:
        assert alice.joined is not None
        assert bob.joined is not None
        own = AudioSource(alice.media.producer_id or "", alice.joined.peer_id)
        assert bob.joined.sources == (own,)  # alice's microphone, from the join answer
        assert (await outcome(lambda reply: bob.media.follow(bob.joined.sources, reply))).ok
        assert list(bob.media.consumers()) == [own.source_id]

        floor = await outcome(lambda reply: alice.signaling.request_floor("a-1", reply))
        assert floor.value == FloorAnswer("a-1", True, alice.joined.peer_id)
        alice.media.set_transmitting(True)
        assert await until(lambda: bob.audio.received() >= 40, within=3.0)
        assert abs(dominant_frequency(bob.audio.left_channel(last=25)) - 440.0) < 10.0
        assert bob.facts.speakers == [alice.joined.peer_id]

        # Alice rebuilds her media: bob hears of the old source going, the new one coming.
        alice.media.close()
        assert (await outcome(lambda reply: alice.media.connect(Events(), reply))).ok
        assert (await outcome(alice.media.attach_microphone)).ok
        new = AudioSource(alice.media.producer_id or "", alice.joined.peer_id)
        assert new != own
        assert await until(lambda: bool(bob.facts.sources) and bob.facts.sources[-1] == (new,), 3.0)
        assert bob.facts.sources == [(), (new,)]
        assert (await outcome(lambda reply: bob.media.follow(bob.facts.sources[-1], reply))).ok
        assert list(bob.media.consumers()) == [new.source_id]
    finally:
        await close(alice, bob)
