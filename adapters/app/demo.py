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
import itertools
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.devices.audio import MemoryTap, SoundDeviceAudio, dominant_frequency, rms_dbfs
from adapters.devices.audio.frames import Samples
from adapters.manager import ConnectionManager
from adapters.server import PttServer, media_server, mint_token
from adapters.testing.faultproxy import FaultProxy
from fsm import FixedSchedule

from .demo_view import LiveView, render_table

SECRET = "ptt-demo-secret-0123456789abcdef0123"
CHANNEL = "stage"
ALICE_HZ = 523.0
PING = 0.5  # keepalive interval and timeout of the demo clients (s)


class VoiceTap(MemoryTap):
    """Bob's ears: remembers *when* each audible block containing Alice's voice arrived."""

    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz = hz
        self.heard: list[float] = []

    def write(self, samples: Samples) -> None:
        super().write(samples)
        audible = len(samples) >= 480 and rms_dbfs(samples) > -45
        if audible and abs(dominant_frequency(samples, 48000) - self.hz) < 60:
            self.heard.append(time.monotonic())

    def longest_gap(self, start: float, end: float) -> float | None:
        """The longest silence of the voice within [start, end]; None if never heard after."""
        times = [t for t in self.heard if start <= t <= end]
        before = [t for t in self.heard if t < start]
        if not times:
            return None
        points = ([before[-1]] if before else [start]) + times
        return max(b - a for a, b in itertools.pairwise(points))


@dataclass
class FaultResult:
    fault: str
    detection: float | None = None
    recovery: float | None = None
    audio_gap: float | None = None
    dropped: int = 0
    passed: bool = False
    note: str = ""


@dataclass
class Story:
    server: PttServer
    port: int
    proxies: dict[str, FaultProxy]
    clients: dict[str, ConnectionManager]
    ears: VoiceTap
    announce: Callable[[str], None]
    results: list[FaultResult] = field(default_factory=list)


async def _wait(predicate: Callable[[], bool], limit: float) -> float | None:
    """Seconds until ``predicate()`` holds, or None after ``limit`` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():
            return time.monotonic() - start
        await asyncio.sleep(0.01)
    return None


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


async def _measure(
    story: Story,
    fault: str,
    who: str,
    inject: Callable[[], Awaitable[None]],
    *,
    heal: Callable[[], Awaitable[None]] | None = None,
    hold: float = 0.0,
) -> FaultResult:
    """Inject a fault on ``who``'s path, time detection and recovery, judge the audio."""
    client = story.clients[who]
    dropped_before = sum(client.metrics.dropped.values())
    recoveries = client.metrics.recoveries
    start = time.monotonic()
    await inject()
    detection = await _wait(lambda: client.state != "connected", 15)
    if hold:
        await asyncio.sleep(hold)
    if heal is not None:
        await heal()
    recovered = await _wait(
        lambda: client.state == "connected" and client.metrics.recoveries > recoveries, 20
    )
    back = time.monotonic()
    recovery = None if recovered is None else back - start
    # Bob must hear Alice again *after* the recovery: only then is the gap known.
    heard_again = await _wait(lambda: bool(story.ears.heard) and story.ears.heard[-1] > back, 5)
    gap = story.ears.longest_gap(start, time.monotonic()) if heard_again is not None else None
    result = FaultResult(
        fault,
        detection=detection,
        recovery=recovery,
        audio_gap=gap,
        dropped=sum(client.metrics.dropped.values()) - dropped_before,
    )
    result.passed = None not in (detection, recovery, gap)
    return result


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
    proxy = story.proxies["alice"]

    async def blackhole() -> None:
        proxy.blackhole()

    async def heal() -> None:
        proxy.pass_through()

    result = await _measure(story, "silent blackhole", "alice", blackhole, heal=heal, hold=0.5)
    bound = 2 * PING + 0.5
    result.passed = result.passed and result.detection is not None and result.detection < bound
    result.note = f"bound {bound:.1f} s"
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
        for client in clients.values():
            await client.connect()
        for client in clients.values():
            await client.wait_for("connected", 15)
        clients["alice"].ptt.press()
        await _wait(lambda: bool(ears.heard), 10)
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
    print(render_table(story.results))
    print(f"demo finished in {time.monotonic() - started:.1f} s; audio files in {out}")
    return 0 if story.results and all(r.passed for r in story.results) else 1
