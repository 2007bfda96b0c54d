"""The SFU revokes the floor of a speaker whose audio stalls, so listeners keep their media.

Real clients (``ConnectionManager`` with aiortc transports and a ``tone:HZ`` microphone)
against ``media_server`` on loopback; nothing of aiortc is mocked. A speaker's uplink
"dies" by closing its microphone gate at the transport level (``set_transmitting(False)``
on its adapter, behind the machine's back): the machine still holds the floor and nothing
reaches the server, exactly what a dropped uplink looks like from there.

Timings: ``STALL`` 1 s on the server, 2 s liveness on the clients (the same order as the
defaults, 1.5 s and 3 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters.backends.reference import ReferenceBackend, protocol
from adapters.backends.reference.media.sfu_media import SfuMedia
from adapters.devices.audio import MemoryTap, SoundDeviceAudio, dominant_frequency
from adapters.manager import ConnectionManager
from adapters.server import PttServer, media_server, mint_token
from adapters.server.sfu import AiortcRouter
from adapters.server.testing import RawClient
from fsm import FixedSchedule
from fsm.events import ChannelChanged, PttEvent, StateChanged
from fsm.observe import Recorder

SECRET = "stall-secret-" + "0123456789abcdef" * 4
CHANNEL = "ops"
STALL = 1.0  # the server's stall_timeout in these tests
LIVENESS = 2.0  # the clients' liveness_timeout (> STALL, as 3 s > 1.5 s by default)
WAIT = 8.0  # "soon" on a loaded 2-core machine
A_HZ, B_HZ = 440.0, 880.0


class Trace(Recorder):
    """Every typed event of one client with the ``time.monotonic()`` it arrived at."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_event(self, event: PttEvent) -> None:
        super().on_event(event)
        self.times.append(time.monotonic())

    def channel(self, kind: str, since: int = 0) -> list[tuple[float, ChannelChanged]]:
        return [
            (t, e)
            for t, e in zip(self.times[since:], self.events[since:], strict=True)
            if isinstance(e, ChannelChanged) and e.kind == kind
        ]

    def speaker_freed(self, since: int = 0) -> list[float]:
        """When ``speakerChanged`` said nobody holds the floor."""
        return [t for t, e in self.channel("speaker_changed", since) if e.data["peer_id"] is None]

    def states(self, since: int = 0) -> list[str]:
        return [e.state for e in self.events[since:] if isinstance(e, StateChanged)]


class Client:
    def __init__(self, manager: ConnectionManager, trace: Trace, tap: MemoryTap | None) -> None:
        self.manager, self.trace, self.tap = manager, trace, tap

    @property
    def transports(self) -> SfuMedia:
        transports = self.manager.machine.ports.media
        assert isinstance(transports, SfuMedia)
        return transports

    def pcs(self) -> list[tuple[int, str]]:
        """Identity and state of the client's peer connections."""
        return [(id(pc), pc.connectionState) for pc in self.transports.peer_connections()]

    def hears(self, hz: float, seconds: float = 0.2) -> bool:
        assert self.tap is not None
        samples = self.tap.samples()[-int(48000 * seconds) :]
        return len(samples) == int(48000 * seconds) and (
            abs(dominant_frequency(samples, 48000) - hz) < 20
        )


MakeClient = Callable[..., Awaitable[Client]]


async def until(condition: Callable[[], bool], within: float = WAIT) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture
async def sfu() -> AsyncIterator[PttServer]:
    server = media_server(SECRET, stall_timeout=STALL, grace=1.0, close_timeout=0.5)
    async with server:
        yield server
    router = server.media
    assert isinstance(router, AiortcRouter)
    assert not router._watchdogs, "a stall watchdog outlived the router"


@pytest.fixture
async def make_client(sfu: PttServer) -> AsyncIterator[MakeClient]:
    clients: list[Client] = []

    async def make(
        user: str, hz: float | None = None, liveness: float = LIVENESS, **options: Any
    ) -> Client:
        tap = MemoryTap() if hz is not None else None
        audio = SoundDeviceAudio(f"tone:{hz}", output=False, tap=tap) if hz else None
        manager = ConnectionManager(
            sfu.url,
            channel=CHANNEL,
            token=mint_token(SECRET, user, CHANNEL, 600),
            audio=audio,
            media=hz is not None,
            backoff=FixedSchedule((0.2,)),
            backend=ReferenceBackend(liveness_timeout=liveness),
            log_transitions=False,
            **options,
        )
        trace = Trace()
        manager.add_listener(trace)
        client = Client(manager, trace, tap)
        clients.append(client)
        await manager.connect()
        await manager.wait_for("connected", WAIT)
        return client

    yield make
    for client in clients:
        await client.manager.disconnect()


async def settle() -> None:
    """Let the producers grow older than stall_timeout: from now on only the grace from the
    grant keeps a new speaker's first frames (50-150 ms after the grant) from being late."""
    await asyncio.sleep(STALL + 0.3)


async def talk(speaker: Client, listener: Client, hz: float) -> None:
    """``speaker`` presses and gets the floor; ``listener`` hears its tone."""
    await settle()
    speaker.manager.ptt.press()
    assert await until(lambda: speaker.manager.transmitting), "the floor was not granted"
    assert await until(lambda: listener.hears(hz)), "the listener never heard the speaker"


async def test_stalled_speaker_loses_floor_and_listeners_keep_media(
    make_client: MakeClient,
) -> None:
    """A's audio stops while A holds the floor: within STALL the server revokes it (A hears
    why), B hears the floor free, and B's media outlives its own liveness window untouched.
    """
    a = await make_client("alice", A_HZ)
    b = await make_client("bob", B_HZ)
    await talk(a, b, A_HZ)
    b_pcs, a_mark, b_mark = b.pcs(), len(a.trace.events), len(b.trace.events)
    assert [state for _, state in b_pcs] == ["connected", "connected"]

    stopped = time.monotonic()
    a.transports.set_transmitting(False)  # the uplink dies; A's machine still holds the floor

    assert await until(lambda: bool(b.trace.speaker_freed(b_mark))), "the floor was never freed"
    freed = b.trace.speaker_freed(b_mark)[0] - stopped
    print(f"stall to speakerChanged(null) at the listener: {freed:.3f} s (stall_timeout {STALL})")
    assert STALL * 0.9 <= freed <= STALL + 1.0
    assert await until(lambda: bool(a.trace.channel("floor_lost", a_mark)))
    revoked = a.trace.channel("floor_lost", a_mark)[0][1]
    assert revoked.data["reason"] == "stalled_uplink"
    assert not a.manager.transmitting

    # Past the moment B's liveness check would have failed without the revoke.
    await asyncio.sleep(stopped + LIVENESS + 1.0 - time.monotonic())
    assert b.trace.states(b_mark) == [], "the listener left connected"
    assert b.manager.state == "connected"
    assert b.pcs() == b_pcs, "the listener's media was rebuilt"
    # A, told by the server that its uplink stalled, rebuilt its own media and, still
    # holding the button, took the floor again: B hears A again on the same transports.
    assert "reconnecting" in a.trace.states(a_mark)
    assert await until(lambda: b.manager.channel.speaker == a.manager.channel.peer_id)
    assert await until(lambda: b.hears(A_HZ))
    assert b.pcs() == b_pcs


async def test_talking_speaker_is_never_revoked(make_client: MakeClient) -> None:
    """A speaker whose audio flows keeps the floor for 3x stall_timeout (and B keeps hearing)."""
    a = await make_client("alice", A_HZ)
    b = await make_client("bob", B_HZ)
    await talk(a, b, A_HZ)
    a_mark, b_mark = len(a.trace.events), len(b.trace.events)

    await asyncio.sleep(3 * STALL)
    assert a.manager.transmitting
    assert a.trace.channel("floor_lost", a_mark) == []
    assert b.trace.speaker_freed(b_mark) == []
    assert b.manager.channel.speaker == a.manager.channel.peer_id
    assert b.hears(A_HZ)


async def test_silent_grant_is_revoked_only_after_stall_timeout(
    make_client: MakeClient,
) -> None:
    """The clock starts at the grant: a speaker whose first frame never comes keeps the floor
    for stall_timeout, then loses it."""
    a = await make_client("alice", A_HZ)
    b = await make_client("bob", B_HZ)
    transports = a.transports
    gate = transports.set_transmitting
    transports.set_transmitting = lambda on: gate(False)  # type: ignore[method-assign]
    await settle()
    a_mark = len(a.trace.events)
    a.manager.ptt.press()

    assert await until(lambda: bool(a.trace.channel("floor_granted", a_mark)))
    granted = a.trace.channel("floor_granted", a_mark)[0][0]
    assert await until(lambda: bool(a.trace.channel("floor_lost", a_mark)))
    at, revoked = a.trace.channel("floor_lost", a_mark)[0]
    print(f"grant to floorRevoked without audio: {at - granted:.3f} s")
    assert revoked.data["reason"] == "stalled_uplink"
    assert STALL * 0.9 <= at - granted <= STALL + 1.0
    assert await until(lambda: b.manager.channel.speaker is None)


async def test_signaling_only_floor_holder_is_never_revoked(make_client: MakeClient) -> None:
    """A floor holder with no producer (media-less client) keeps the floor, even though
    another member of the channel does produce."""
    # B produces but, as a listener of a media-less speaker, must not rebuild meanwhile.
    b = await make_client("bob", B_HZ, liveness=60.0)
    c = await make_client("carol")  # signaling only: no transports, no producer
    assert c.manager.machine.ports.media is None
    assert await until(lambda: len(c.manager.channel.sources) == 1)
    c_mark, b_mark = len(c.trace.events), len(b.trace.events)
    c.manager.ptt.press()
    assert await until(lambda: c.manager.transmitting)
    assert await until(lambda: b.manager.channel.speaker == c.manager.channel.peer_id)

    await asyncio.sleep(3 * STALL)
    assert c.manager.transmitting
    assert c.trace.channel("floor_lost", c_mark) == []
    assert b.trace.speaker_freed(b_mark) == []
    assert b.manager.channel.speaker == c.manager.channel.peer_id


async def test_stall_report_revokes_only_the_current_holder(
    server: PttServer, connect: Callable[..., Awaitable[RawClient]]
) -> None:
    """The server side of the callback: a stale report (not the holder, floor already
    free) changes nothing; the holder's report revokes like max_talk_time does."""
    alice, bob = await connect("alice"), await connect("bob")
    a, b = alice.joined["peer_id"], bob.joined["peer_id"]
    assert server.speaker_stalled(a) is False  # nobody holds the floor
    await alice.ok("pttStart", {"tx_id": "a1"})
    await bob.note(protocol.SPEAKER_CHANGED, peer_id=a)
    assert server.speaker_stalled(b) is False  # bob does not hold it
    assert server.speaker_stalled(a) is True
    revoked = await alice.note(protocol.FLOOR_REVOKED, within=1.0)
    assert revoked == {"tx_id": "a1", "reason": "stalled"}
    for client in (alice, bob):
        await client.note(protocol.SPEAKER_CHANGED, peer_id=None, tx_id=None)
    assert bob.find(protocol.FLOOR_REVOKED) is None
    assert server.speaker_stalled(a) is False  # reported twice: revoked once
    assert (await alice.ok("pttStart", {"tx_id": "a1"}))["granted"] is False  # that tx is over
    assert (await alice.ok("pttStart", {"tx_id": "a2"}))["granted"] is True  # a new one is not


def test_stall_timeout_is_validated() -> None:
    with pytest.raises(ValueError, match="stall_timeout"):
        media_server(SECRET, stall_timeout=-1.0)
    with pytest.raises(ValueError, match="stall_timeout"):
        PttServer(SECRET, stall_timeout=-1.0)
    assert PttServer(SECRET, stall_timeout=0).stall_timeout == 0
