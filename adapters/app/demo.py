"""``ptt demo``: the main job. A loopback server, a fault proxy per client, three clients
with synthetic voices, and a scripted outage story, measured and judged.

Alice talks (a 523 Hz voice) and keeps holding the button throughout; Bob listens;
Carol listens until she is kicked. Each fault is injected for real (token expiry on the
server, TCP reset and blackhole in the proxy, a server restart on the same port, a kick)
and measured: detection time, time to recover, the gap in Alice's audio at Bob, and the
messages dropped. The table at the end says pass or fail per fault.
"""

from __future__ import annotations

import asyncio
import ctypes.util
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.devices.audio import MemoryTap, SoundDeviceAudio
from adapters.manager import ConnectionManager
from adapters.server import PttServer, media_server, mint_token
from adapters.testing.faultproxy import FaultProxy
from fsm import FixedSchedule

from .demo_kit import ALICE_HZ, FaultResult, VoiceTap, silent_blackhole, start_cast, verdict
from .demo_kit import measure as _measure
from .demo_kit import wait_until as _wait
from .demo_network import network_lost
from .demo_view import LiveView

SECRET = "ptt-demo-secret-0123456789abcdef0123"
CHANNEL = "stage"
PING = 0.5  # keepalive interval and timeout of the demo clients (s)


@dataclass
class Story:
    server: PttServer
    port: int
    proxies: dict[str, FaultProxy]
    clients: dict[str, ConnectionManager]
    ears: VoiceTap
    announce: Callable[[str], None]
    results: list[FaultResult] = field(default_factory=list)


def _client(
    name: str,
    url: str,
    voice: str,
    ttl: float,
    *,
    tap: MemoryTap | None = None,
    wav: str | None = None,
) -> ConnectionManager:
    async def fresh_token() -> str:
        return mint_token(SECRET, name, CHANNEL, 3600)

    return ConnectionManager(
        url,
        channel=CHANNEL,
        token=mint_token(SECRET, name, CHANNEL, ttl),
        token_provider=fresh_token,
        audio=SoundDeviceAudio(voice, output=False, tap=tap, wav_path=wav),
        backoff=FixedSchedule((0.2, 0.4, 0.8, 1.0)),
        backend=ReferenceBackend(
            SignalingOptions(ping_interval=PING, ping_timeout=PING, close_timeout=0.3),
            liveness_timeout=2.0,
        ),
        stable_after=3.0,
        log_transitions=False,
    )


async def _restart_server(story: Story) -> None:
    await story.server.close()  # 1001 to everyone: they reconnect
    await asyncio.sleep(0.5)  # a real restart takes a moment: connects are refused meanwhile
    story.server = media_server(SECRET, port=story.port, grace=30)
    await story.server.start()


async def _story(story: Story, quick: bool) -> None:
    pause = 0.5 if quick else 1.5
    carol = story.clients["carol"]

    # 1. Carol's token expires mid-session: 4001, one refresh through the provider.
    story.announce("token expiry: Carol's token runs out mid-session")
    result = await _measure(story, "token expiry", "carol", _noop)
    result.audio_gap = None  # Alice's audio at Bob is not on Carol's path
    result.detection = None  # the step waits for the expiry itself: nothing to detect
    result.passed = result.recovery is not None and carol.state == "connected"
    result.note = "4001 at expiry, token refreshed once"
    story.results.append(result)
    await asyncio.sleep(pause)

    # 2. TCP reset on Alice's path while she talks.
    story.announce("connection reset on Alice's path while she talks")

    async def reset() -> None:
        story.proxies["alice"].reset_now()

    story.results.append(await _measure(story, "connection reset", "alice", reset))
    await asyncio.sleep(pause)

    # 3. Silent blackhole: no FIN, no RST; only keepalives notice.
    story.announce("silent blackhole on Alice's path (no FIN, no RST)")
    result = await silent_blackhole(story, "alice", story.proxies["alice"], PING)
    story.results.append(result)
    await asyncio.sleep(pause)

    # 4. Server restart (1001), same port: a full rejoin, media rebuilt.
    story.announce("server restart (1001), same port")
    result = await _measure(story, "server restart", "alice", lambda: _restart_server(story))
    result.note = "1001, sessions lost"
    story.results.append(result)
    await asyncio.sleep(pause)

    # 5. Carol is kicked: a final goodbye, no reconnect attempt.
    story.announce("Carol is kicked (final goodbye)")
    handshakes = story.server.stats.handshakes["ok"]
    await story.server.kick("carol")
    detection = await _wait(lambda: carol.state == "disconnected", 5)
    await asyncio.sleep(1.5)
    retried = story.server.stats.handshakes["ok"] != handshakes
    story.results.append(
        FaultResult(
            "kick",
            detection=detection,
            recovery=None,
            dropped=0,
            passed=detection is not None and not retried and carol.state == "disconnected",
            note="4000, stays disconnected" if not retried else "it reconnected!",
        )
    )

    # 6. The client's own network goes away: a client in a network namespace whose veth
    # goes down until its backoff waits the cap, then comes up (needs root: else skipped).
    story.announce("client network lost: its own link goes down, then up")
    story.results.append(await network_lost(quick))


async def _noop() -> None:
    return None


async def _chatter(client: ConnectionManager) -> None:
    """Alice also sends a status message every 100 ms: they queue through every outage."""
    seq = 0
    while True:
        await asyncio.sleep(0.1)
        if client.state in ("connecting", "connected", "reconnecting"):
            seq += 1
            client.send_message({"seq": seq})


async def run_demo(quick: bool = False, plain: bool = False) -> int:
    started = time.monotonic()
    if ctypes.util.find_library("portaudio") is None:
        print("PortAudio is not installed: using synthetic voices and file sinks.")
    out = Path(tempfile.mkdtemp(prefix="ptt-demo-"))
    server = media_server(SECRET, grace=30)
    await server.start()
    proxies = {name: FaultProxy("127.0.0.1", server.port) for name in ("alice", "bob", "carol")}
    for proxy in proxies.values():
        await proxy.start()
    ears = VoiceTap(ALICE_HZ)
    url = {name: proxy.url_for("/ptt") for name, proxy in proxies.items()}
    clients = {
        "alice": _client("alice", url["alice"], f"tone:{ALICE_HZ:g}", 3600),
        "bob": _client(
            "bob", url["bob"], "tone:660", 3600, tap=ears, wav=str(out / "bob-heard.wav")
        ),
        "carol": _client("carol", url["carol"], "tone:740", 4),
    }
    view = LiveView(clients, plain=plain or not sys.stdout.isatty())
    story = Story(server, server.port, proxies, clients, ears, view.announce)
    view.start()
    try:
        await start_cast(clients, ears)
        chatter = asyncio.create_task(_chatter(clients["alice"]))
        await _story(story, quick)
        view.announce("done")
    finally:
        if "chatter" in locals():
            chatter.cancel()
        await view.stop()
        for client in clients.values():
            await client.disconnect()
        for proxy in proxies.values():
            await proxy.close()
        await story.server.close()
    return verdict(story.results, started, out)
