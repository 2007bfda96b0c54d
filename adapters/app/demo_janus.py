"""``ptt demo --backend janus``: the outage story on a stock Janus AudioBridge.

A private Janus (``LocalJanus``, token auth on, one room with a moderator secret), a fault
proxy in front of its WebSocket per client, four clients with synthetic voices: Alice talks
and keeps holding the button, Bob listens (his ears are measured), Carol and Dave listen.
The faults are the reference story's, in Janus's terms:

- token revoked (Janus has no expiry close code): Carol's token is removed through the
  admin API; her next keepalive is refused (403), the claim too, the token is refreshed
  once and the claim gives her session back;
- connection reset: the WebSocket dropped with Janus alive, a signal-only resume by
  ``claim`` (same session, media kept);
- silent blackhole: detected by our own pings, then claimed back;
- Janus restart while Alice talks: every session is lost (458), a full restore, the floor
  taken again because the button is still held, and Bob hears Alice again;
- kick: an AudioBridge ``kick`` by the moderator (the room secret): a final goodbye;
- bad token after refresh: Dave's token is revoked and his login hands out a token Janus
  does not know: ``error``, "log in again", no retry loop.
"""

from __future__ import annotations

import asyncio
import ctypes.util
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.backends.janus import ClientOptions, JanusBackend, LocalJanus, MediaOptions, Room
from adapters.devices.audio import MemoryTap, SoundDeviceAudio
from adapters.devices.tokens import TokenProvider
from adapters.manager import ConnectionManager
from adapters.testing.faultproxy import FaultProxy
from fsm import FixedSchedule

from .demo_kit import (
    ALICE_HZ,
    FaultResult,
    VoiceTap,
    measure,
    silent_blackhole,
    start_cast,
    verdict,
    wait_until,
)
from .demo_view import LiveView

ROOM = 1234
PING = 0.5  # WebSocket ping interval and timeout of the demo clients (s)
KEEPALIVE = 1.0  # Janus session keepalive of the demo clients (s): finds a revoked token
RECLAIM = 20  # Janus's reclaim_session_timeout, and the clients' stale_after (s)
CAST = {"alice": f"tone:{ALICE_HZ:g}", "bob": "tone:660", "carol": "tone:740", "dave": "tone:880"}


class Logins:
    """The login service: mints a token and registers it with Janus's admin API.

    Janus keeps stored tokens in memory, so after a restart the service registers the
    live ones again (as a real token service would). A name in ``refused`` gets a token
    Janus has never heard of (a broken login)."""

    def __init__(self, janus: LocalJanus) -> None:
        self.janus = janus
        self.current: dict[str, str] = {}
        self.refused: set[str] = set()

    def provider(self, name: str) -> TokenProvider:
        async def login() -> str:
            if name in self.refused:
                return secrets.token_hex(16)  # never added: Janus answers 403
            token = secrets.token_hex(16)
            await self.janus.add_token(token)
            self.current[name] = token
            return token

        return login

    async def revoke(self, name: str) -> None:
        token = self.current.pop(name, None)
        if token is not None:
            await self.janus.remove_token(token)

    async def register_again(self) -> None:
        for token in self.current.values():
            await self.janus.add_token(token)


@dataclass
class JanusStory:
    janus: LocalJanus
    room_secret: str
    logins: Logins
    proxies: dict[str, FaultProxy]
    clients: dict[str, ConnectionManager]
    ears: VoiceTap
    announce: Callable[[str], None]
    results: list[FaultResult] = field(default_factory=list)


def _client(
    name: str, url: str, logins: Logins, *, tap: MemoryTap | None = None, wav: str | None = None
) -> ConnectionManager:
    return ConnectionManager(
        url,
        channel=str(ROOM),
        token_provider=logins.provider(name),
        audio=SoundDeviceAudio(CAST[name], output=False, tap=tap, wav_path=wav),
        backoff=FixedSchedule((0.2, 0.4, 0.8, 1.0)),
        backend=JanusBackend(
            display=name,
            stale_after=RECLAIM,
            client=ClientOptions(
                ping_interval=PING,
                ping_timeout=PING,
                keepalive_interval=KEEPALIVE,
                close_timeout=0.3,
            ),
            media_options=MediaOptions(liveness_timeout=2.0),
        ),
        stable_after=3.0,
        log_transitions=False,
    )


async def _restart_janus(story: JanusStory) -> None:
    await story.janus.kill()  # every session and PeerConnection is gone
    await asyncio.sleep(0.5)  # a real restart takes a moment: connects are refused meanwhile
    await story.janus.start()
    await story.logins.register_again()


async def _kick(story: JanusStory, name: str) -> None:
    """The moderator's AudioBridge ``kick`` (the room secret), sent through the admin API."""
    peer = story.clients[name].channel.peer_id
    assert peer is not None
    request = {"request": "kick", "room": ROOM, "secret": story.room_secret, "id": int(peer)}
    plugin = "janus.plugin.audiobridge"
    await story.janus.admin({"janus": "message_plugin", "plugin": plugin, "request": request})


async def _token_revoked(story: JanusStory) -> FaultResult:
    """Carol's token is revoked mid-session: a keepalive refused, one refresh, claimed back."""
    carol = story.clients["carol"]
    resume_id = carol.channel.resume_id
    result = await measure(story, "token revoked", "carol", lambda: story.logins.revoke("carol"))
    result.audio_gap = None  # Alice's audio at Bob is not on Carol's path
    resumed = carol.channel.resume_id == resume_id
    result.passed = result.recovery is not None and carol.state == "connected" and resumed
    result.note = "403 on keepalive, refreshed once, claimed" if resumed else "not claimed!"
    return result


async def _connection_reset(story: JanusStory) -> FaultResult:
    """The WebSocket is reset, Janus alive: claim gives the session back, media kept."""
    alice, proxy = story.clients["alice"], story.proxies["alice"]
    resume_id = alice.channel.resume_id

    async def reset() -> None:
        proxy.reset_now()

    result = await measure(story, "connection reset", "alice", reset)
    resumed = alice.channel.resume_id == resume_id
    result.passed = result.passed and resumed
    result.note = "claimed: signal-only resume" if resumed else "not claimed!"
    return result


async def _silent_blackhole(story: JanusStory) -> FaultResult:
    """No FIN, no RST: only our pings notice; then the session is claimed back."""
    result = await silent_blackhole(story, "alice", story.proxies["alice"], PING)
    result.note = f"our pings, {result.note}"
    return result


async def _janus_restart(story: JanusStory) -> FaultResult:
    """Janus restarts while Alice talks: 458, a new session, media rebuilt, floor re-taken."""
    alice = story.clients["alice"]
    resume_id = alice.channel.resume_id
    result = await measure(story, "janus restart", "alice", lambda: _restart_janus(story))
    rebuilt = alice.channel.resume_id != resume_id
    result.passed = result.passed and rebuilt and alice.transmitting
    result.note = "458: new session, floor re-taken" if rebuilt else "claimed a dead session?"
    return result


async def _kicked(story: JanusStory) -> FaultResult:
    """The moderator kicks Carol: a final goodbye, no reconnect attempt."""
    carol = story.clients["carol"]
    attempts = carol.metrics.attempts
    await _kick(story, "carol")
    detection = await wait_until(lambda: carol.state == "disconnected", 5)
    await asyncio.sleep(1.5)
    retried = carol.metrics.attempts != attempts
    return FaultResult(
        "kick",
        detection=detection,
        passed=detection is not None and not retried and carol.state == "disconnected",
        note="kicked, stays disconnected" if not retried else "it reconnected!",
    )


async def _bad_token(story: JanusStory) -> FaultResult:
    """Dave's token is revoked and his login is broken: ``error``, no retry loop."""
    dave = story.clients["dave"]
    story.logins.refused.add("dave")
    await story.logins.revoke("dave")
    failed = await wait_until(lambda: dave.state == "error", 10)
    attempts = dave.metrics.attempts
    await asyncio.sleep(1.0)
    stays = dave.state == "error" and dave.metrics.attempts == attempts
    return FaultResult(
        "bad token after refresh",
        detection=failed,
        passed=failed is not None and stays,
        note="403 twice: error, log in again" if stays else f"ended in {dave.state}",
    )


Scene = Callable[[JanusStory], Awaitable[FaultResult]]
SCENES: tuple[tuple[str, Scene], ...] = (
    ("token revoked: Carol's token is removed from Janus mid-session", _token_revoked),
    ("connection reset on Alice's path while she talks (Janus alive)", _connection_reset),
    ("silent blackhole on Alice's path (no FIN, no RST)", _silent_blackhole),
    ("Janus restart while Alice talks (every session lost)", _janus_restart),
    ("Carol is kicked by the moderator (AudioBridge kick)", _kicked),
    ("bad token after refresh: Dave's token revoked, his login hands out junk", _bad_token),
)


async def _story(story: JanusStory, quick: bool) -> None:
    for i, (title, scene) in enumerate(SCENES):
        if i:
            await asyncio.sleep(0.5 if quick else 1.5)
        story.announce(title)
        story.results.append(await scene(story))


async def run_janus_demo(quick: bool = False, plain: bool = False) -> int:
    started = time.monotonic()
    if ctypes.util.find_library("portaudio") is None:
        print("PortAudio is not installed: using synthetic voices and file sinks.")
    out = Path(tempfile.mkdtemp(prefix="ptt-demo-janus-"))
    room_secret = secrets.token_hex(12)  # the moderator's; never printed
    janus = LocalJanus(
        rooms=(Room(ROOM, description="ptt demo", secret=room_secret),),
        reclaim_session_timeout=RECLAIM,
        token_auth=True,
    )
    await janus.start()
    logins = Logins(janus)
    proxies = {name: FaultProxy("127.0.0.1", janus.config.ws_port) for name in CAST}
    for proxy in proxies.values():
        await proxy.start()
    ears = VoiceTap(ALICE_HZ)
    clients = {
        name: _client(
            name,
            proxies[name].url_for("/"),
            logins,
            tap=ears if name == "bob" else None,
            wav=str(out / "bob-heard.wav") if name == "bob" else None,
        )
        for name in CAST
    }
    view = LiveView(clients, plain=plain or not sys.stdout.isatty())
    story = JanusStory(janus, room_secret, logins, proxies, clients, ears, view.announce)
    view.start()
    try:
        await start_cast(clients, ears)
        await _story(story, quick)
        view.announce("done")
    finally:
        await view.stop()
        for client in clients.values():
            await client.disconnect()
        for proxy in proxies.values():
            await proxy.close()
        await janus.aclose()
    return verdict(story.results, started, out)
