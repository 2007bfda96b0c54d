"""End-to-end media: every restore is proven by *sound* at the listener, not by state names.

The reference server with its aiortc SFU (``media_server``), one ``FaultProxy`` per client
for signaling faults, and real clients (``ConnectionManager`` with aiortc transports and
``SoundDeviceAudio``) on this machine. Every client hears into a :class:`TimedTap`: each
mixed 20 ms block with the ``time.monotonic()`` it was written, its level and dominant
frequency. "B hears A" means a sustained run (``HEARD`` seconds) of A's tone in B's tap.

Media faults are real packet loss. Scenario 2 runs client A as its own process
(``media_helpers.py``) inside a private network namespace joined to the host by a veth
pair, and drops all of A's UDP there with iptables; deleting the namespace is the whole
cleanup. Scenario 1 feeds A's real PortAudio microphone (JACK dummy backend) with a sine
from a PortAudio output stream routed by ``jack_connect``.

Timings are short (backoff 0.1/0.2/0.4 s, pings 0.5 s, liveness 1 s) so the file runs in
well under 90 s; ``pytest -s`` prints the measured gaps, which are also recorded with
``record_property``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from aiortc import RTCPeerConnection

from adapters.backends.reference import ReferenceBackend, SfuMedia, SignalingOptions
from adapters.devices.audio import (
    MemoryTap,
    SoundDeviceAudio,
    dominant_frequency,
    list_devices,
    rms_dbfs,
)
from adapters.devices.audio.frames import RATE, Samples
from adapters.manager import ConnectionManager
from adapters.server import PttServer, media_server, mint_token
from adapters.testing.faultproxy import FaultProxy
from fsm import FixedSchedule
from fsm.events import ChannelChanged, PttEvent, Reconnected, StateChanged
from fsm.observe import Listener
from fsm.ports import Tone
from tests.jack import jack_ports, jack_running

pytestmark = pytest.mark.e2e

SECRET = "e2e-media-" + "0123456789abcdef" * 4
CHANNEL = "ops"
SCHEDULE = (0.1, 0.2, 0.4)
SIGNALING: dict[str, Any] = {
    "ping_interval": 0.5,
    "ping_timeout": 0.5,
    "open_timeout": 2.0,
    "request_timeout": 2.0,
    "close_timeout": 0.3,
}
LIVENESS = 1.0
GRACE = 5.0
WAIT = 8.0  # "soon" on a loaded 2-core machine
HEARD = 0.2  # a run of the tone this long means "hears it" (feedback beeps are <= 0.12 s)
SILENT_DBFS = -50.0
TONE_DBFS = -35.0  # a block quieter than this is not "the tone"
# The longest hole B may hear while A's audio never stops (signal-only resume). Normal runs
# measure 0.10-0.14 s (jitter buffer); a loaded 2-core CI machine stretches that, while a
# real interruption (a media rebuild) costs well over a second: 0.6 s tells them apart.
MAX_GAP = 0.6

A_HZ, B_HZ, C_HZ = 440.0, 880.0, 660.0
DENY_HZ = 330.0  # Tone.FLOOR_DENIED: two 120 ms beeps at 330 Hz (adapters.audio.tones)

T = TypeVar("T")


# --- what a client heard ---------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    t: float  # time.monotonic() when the mixer wrote it
    samples: Samples
    dbfs: float
    freq: float  # dominant frequency; 0.0 for (near) silence


class TimedTap(MemoryTap):
    """A ``MemoryTap`` that also keeps when each 20 ms block was heard, and what it was."""

    def __init__(self) -> None:
        super().__init__()
        self.timeline: list[Block] = []

    def write(self, samples: Samples) -> None:
        super().write(samples)
        dbfs = rms_dbfs(samples)
        freq = dominant_frequency(samples) if dbfs > SILENT_DBFS else 0.0
        self.timeline.append(Block(time.monotonic(), samples.copy(), dbfs, freq))

    def between(self, start: float, end: float = math.inf) -> list[Block]:
        return [b for b in self.timeline if start <= b.t < end]

    def tone_times(self, freq: float, start: float, end: float = math.inf) -> list[float]:
        return [b.t for b in self.between(start, end) if is_tone(b, freq)]

    def first_run(self, freq: float, since: float, run: float = HEARD) -> float | None:
        """Start of the first run of ``freq`` at least ``run`` seconds long after ``since``."""
        start = last = None
        for block in self.between(since):
            if not is_tone(block, freq):
                start = last = None
                continue
            if last is None or block.t - last > 0.1:
                start = block.t
            last = block.t
            assert start is not None
            if last - start + 0.02 >= run:
                return start
        return None

    def longest_gap(self, freq: float, start: float, end: float) -> tuple[float, float]:
        """The longest stretch of [start, end] without ``freq``: (length, where it began)."""
        edges = [start, *self.tone_times(freq, start, end), end]
        gaps = np.diff(edges)
        i = int(np.argmax(gaps))
        return float(gaps[i]), edges[i]

    def heard(self, start: float = -math.inf, end: float = math.inf) -> Samples:
        """The samples of the blocks heard in [start, end), back to back."""
        blocks = [b.samples for b in self.between(start, end)]
        return np.concatenate(blocks) if blocks else np.zeros(0, np.int16)


def is_tone(block: Block, freq: float) -> bool:
    return block.dbfs > TONE_DBFS and abs(block.freq - freq) < 10.0


def tone_level_dbfs(samples: Samples, freq: float) -> float:
    """RMS level of the ``freq`` component alone (one DFT bin, Hann window)."""
    if samples.size < 4:
        return -math.inf
    x = samples.astype(np.float64) / 32768.0
    window = np.hanning(x.size)
    phase = np.exp(-2j * np.pi * freq * np.arange(x.size) / RATE)
    amplitude = 2.0 * abs(np.sum(x * window * phase)) / np.sum(window)
    return 20.0 * math.log10(amplitude / math.sqrt(2)) if amplitude > 0 else -math.inf


def peak_tone_level_dbfs(samples: Samples, freq: float, window: float = 0.1) -> float:
    """The loudest ``freq`` component over any ``window`` seconds (20 ms steps)."""
    n, hop = int(window * RATE), RATE // 50
    starts = range(0, max(1, samples.size - n + 1), hop)
    return max(tone_level_dbfs(samples[i : i + n], freq) for i in starts)


# --- what a client did -----------------------------------------------------------------
class Trace(Listener):
    """Every typed event of one in-process client, with the monotonic time it happened."""

    def __init__(self) -> None:
        self.log: list[tuple[float, PttEvent]] = []

    def on_event(self, event: PttEvent) -> None:
        self.log.append((time.monotonic(), event))

    def mark(self) -> int:
        return len(self.log)

    def find(
        self, kind: type[T], since: int = 0, where: Callable[[T], bool] = lambda _: True
    ) -> tuple[float, T] | None:
        for t, event in self.log[since:]:
            if isinstance(event, kind) and where(event):
                return t, event
        return None

    async def wait(
        self,
        kind: type[T],
        since: int = 0,
        where: Callable[[T], bool] = lambda _: True,
        within: float = WAIT,
    ) -> tuple[float, T]:
        try:
            await until(lambda: self.find(kind, since, where) is not None, within)
        except TimeoutError:
            seen = [type(e).__name__ + f"({_brief(e)})" for _, e in self.log[since:]]
            raise AssertionError(f"no {kind.__name__} within {within} s; saw {seen}") from None
        found = self.find(kind, since, where)
        assert found is not None
        return found

    def states(self, since: int = 0) -> list[str]:
        return [e.state for _, e in self.log[since:] if isinstance(e, StateChanged)]


def _brief(event: PttEvent) -> str:
    if isinstance(event, StateChanged):
        return f"{event.state}/{event.detail} by {event.event}"
    if isinstance(event, ChannelChanged):
        return event.kind
    return ""


async def until(predicate: Callable[[], Any], within: float = WAIT) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - taps and traces have no change signal
            await asyncio.sleep(0.01)


async def hears(peer: Peer, freq: float, since: float, within: float = WAIT) -> float:
    """When ``peer`` began to hear a sustained ``freq`` after ``since``."""
    try:
        await until(lambda: peer.tap.first_run(freq, since) is not None, within)
    except TimeoutError:
        heard = sorted({round(b.freq) for b in peer.tap.between(since) if b.dbfs > TONE_DBFS})
        raise AssertionError(
            f"{peer.name} did not hear {freq:g} Hz within {within} s (heard {heard} Hz)"
        ) from None
    start = peer.tap.first_run(freq, since)
    assert start is not None
    return start


def floor_event(kind: str) -> Callable[[ChannelChanged], bool]:
    return lambda e: e.kind == kind


def floor_freed(event: ChannelChanged) -> bool:
    """Nobody holds the floor any more."""
    return event.kind == "speaker_changed" and not event.speaker


def is_state(state: str) -> Callable[[StateChanged], bool]:
    return lambda e: e.state == state


# --- clients, server and proxies ------------------------------------------------------
@dataclass
class Peer:
    name: str
    manager: ConnectionManager
    trace: Trace
    audio: SoundDeviceAudio
    tap: TimedTap
    proxy: FaultProxy
    tones: list[tuple[float, Tone]] = field(default_factory=list)

    @property
    def media(self) -> SfuMedia:
        media = self.manager.machine.ports.media
        assert isinstance(media, SfuMedia)
        return media

    def pcs(self) -> tuple[RTCPeerConnection, ...]:
        return self.media.peer_connections()

    def consumer_count(self) -> int:
        return len(self.media.consumers())

    def sources(self) -> set[str]:
        """Ids of the remote audio sources (SFU producers) in this client's channel picture."""
        return {source.source_id for source in self.manager.channel.sources}

    def tones_since(self, t: float) -> list[Tone]:
        return [tone for at, tone in self.tones if at >= t]


class Rig:
    """One test's server, proxies and in-process clients; ``finish`` checks for leaks."""

    def __init__(self) -> None:
        self.server: PttServer | None = None
        self.server_host = "127.0.0.1"
        self.peers: list[Peer] = []
        self.proxies: list[FaultProxy] = []
        self.seen_pcs: list[RTCPeerConnection] = []
        self._closed = False

    async def start(self, grace: float = GRACE, host: str = "127.0.0.1") -> PttServer:
        """The media server, listening (signaling and media alike) on ``host``."""
        self.server = media_server(SECRET, host, grace=grace, close_timeout=0.5)
        await self.server.start()
        self.server_host = host
        return self.server

    async def proxy(self, host: str = "127.0.0.1") -> FaultProxy:
        """A proxy listening on ``host`` in front of the server."""
        assert self.server is not None
        proxy = FaultProxy(self.server_host, self.server.port, host=host)
        await proxy.start()
        self.proxies.append(proxy)
        return proxy

    async def peer(self, name: str, source: str, *, liveness: float = LIVENESS) -> Peer:
        """A client through its own proxy, connected and joined."""
        proxy = await self.proxy()
        tap = TimedTap()
        audio = SoundDeviceAudio(source, output=False, tap=tap)
        manager = ConnectionManager(
            proxy.url_for("/ptt"),
            channel=CHANNEL,
            token=mint_token(SECRET, name, CHANNEL, 600),
            audio=audio,
            backoff=FixedSchedule(SCHEDULE),
            backend=ReferenceBackend(SignalingOptions(**SIGNALING), liveness_timeout=liveness),
            log_transitions=False,
        )
        trace = Trace()
        manager.add_listener(trace)
        peer = Peer(name, manager, trace, audio, tap, proxy)
        spy_tones(peer)
        self.peers.append(peer)
        await manager.connect()
        await trace.wait(StateChanged, where=is_state("connected"))
        self.note_pcs()
        return peer

    async def consuming(self, remote_producers: int) -> None:
        """Every client consumes exactly the others' producers."""
        await until(lambda: all(self._consumes(p, remote_producers) for p in self.peers))
        self.note_pcs()

    @staticmethod
    def _consumes(peer: Peer, remote_producers: int) -> bool:
        return peer.consumer_count() == len(peer.manager.channel.sources) == remote_producers

    def note_pcs(self) -> None:
        for peer in self.peers:
            self.seen_pcs.extend(pc for pc in peer.pcs() if pc not in self.seen_pcs)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.note_pcs()
        for peer in self.peers:  # finish() checks the outcome; here every one must be tried
            with contextlib.suppress(Exception):
                async with asyncio.timeout(WAIT):
                    await peer.manager.disconnect()
        for proxy in self.proxies:
            await proxy.close()
        if self.server is not None:
            await self.server.close()

    async def finish(self) -> None:
        """Disconnect everything, then: no peer connection open, no task left running."""
        await self.close()
        for peer in self.peers:
            assert peer.manager.state == "disconnected"
            assert peer.pcs() == ()
        assert self.seen_pcs, "no peer connection was ever seen: the leak check is vacuous"
        open_pcs = [pc.connectionState for pc in self.seen_pcs if pc.connectionState != "closed"]
        assert open_pcs == []
        with contextlib.suppress(TimeoutError):
            await until(lambda: not _other_tasks(), 3.0)
        assert [t.get_name() for t in _other_tasks()] == []


def _other_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def spy_tones(peer: Peer) -> None:
    """Record every feedback tone the machine asks ``peer``'s audio to play (still played)."""
    play = peer.audio.play_tone

    def play_tone(tone: Tone) -> None:
        peer.tones.append((time.monotonic(), Tone(tone)))
        play(tone)

    peer.audio.play_tone = play_tone  # type: ignore[method-assign]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig()
    try:
        yield r
    finally:
        await r.close()


def report(record_property: Callable[[str, object], None], name: str, seconds: float) -> None:
    print(f"audio gap {name}: {seconds:.3f} s")
    record_property(name, round(seconds, 4))


# === 1. A's real microphone (JACK) -> SFU -> B ==========================================
class SineOutput:
    """A PortAudio output stream on the JACK device playing a continuous sine."""

    def __init__(self, freq: float, level_dbfs: float) -> None:
        from adapters.devices.audio.portaudio import sounddevice

        sd = sounddevice()
        device = next(
            d for d in list_devices() if d.hostapi.startswith("JACK") and d.max_output_channels
        )
        amplitude = 10 ** (level_dbfs / 20)
        position = 0

        def callback(outdata: Any, frames: int, _time: Any, _status: Any) -> None:
            nonlocal position
            n = np.arange(position, position + frames)
            outdata[:, 0] = amplitude * np.sin(2 * np.pi * freq * n / RATE)
            position += frames

        self.stream = sd.OutputStream(
            device=device.index, samplerate=RATE, channels=1, dtype="float32", callback=callback
        )
        self.stream.start()

    def close(self) -> None:
        self.stream.close(ignore_errors=True)


@pytest.mark.audio
async def test_tone_through_a_real_microphone_is_heard(
    rig: Rig, record_property: Callable[[str, object], None]
) -> None:
    if not jack_running():
        pytest.skip("no JACK server: run .ci/audio-up.sh (jackd dummy backend) first")
    await rig.start()
    before = set(jack_ports())
    a = await rig.peer("alice", "device")  # the JACK dummy capture device
    # A's PortAudio input stream registered one capture port (ours: it just appeared).
    mics = [n for n, props in jack_ports().items() if n not in before and "input" in props]
    assert len(mics) == 1, mics
    b = await rig.peer("bob", f"tone:{B_HZ:g}")
    await rig.consuming(1)

    a.manager.ptt.press()
    granted_at, _ = await a.trace.wait(ChannelChanged, where=floor_event("floor_granted"))
    # Control: A transmits, but its microphone hears only the dummy backend's silence.
    await until(lambda: len(b.tap.between(granted_at + 0.3)) >= 15)
    unrouted = b.tap.between(granted_at + 0.3)
    assert max(block.dbfs for block in unrouted) < -60, "B heard something before routing"

    level = -12.0  # peak; the loop is unity gain, aiortc's mono->stereo costs 3 dB more
    ports = set(jack_ports())
    sine = await asyncio.to_thread(SineOutput, A_HZ, level)
    try:
        speakers = [n for n, props in jack_ports().items() if n not in ports and "output" in props]
        assert len(speakers) == 1, speakers
        routed_at = time.monotonic()
        jack = await asyncio.create_subprocess_exec("jack_connect", speakers[0], mics[0])
        assert await jack.wait() == 0
        heard_at = await hears(b, A_HZ, routed_at)
        await asyncio.sleep(0.6)
        heard = b.tap.heard(heard_at + 0.1, heard_at + 0.6)
    finally:
        await asyncio.to_thread(sine.close)

    report(record_property, "jack_route_to_b_hears", heard_at - routed_at)
    assert heard.size >= 0.4 * RATE
    assert dominant_frequency(heard) == pytest.approx(A_HZ, abs=1.0)
    assert rms_dbfs(heard) == pytest.approx(level - 3.01 - 3.0, abs=2.0)
    assert "reconnecting" not in a.trace.states() + b.trace.states()
    await rig.finish()


# === 2. A's signaling and media cut (network namespace) while A holds the button ======
HELPER = Path(__file__).with_name("media_helpers.py")
REPO = Path(__file__).resolve().parents[2]


async def run(*argv: str, check: bool = True) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode()}")


class Namespace:
    """A private network namespace joined to the host by a veth pair (10.213.N.0/30)."""

    def __init__(self) -> None:
        pid = os.getpid()
        self.name = f"ptt-media-{pid}"
        self.host_if, self.ns_if = f"pm{pid}h", f"pm{pid}n"
        subnet = f"10.213.{pid % 250}"
        self.host_addr, self.ns_addr = f"{subnet}.1", f"{subnet}.2"

    async def up(self) -> None:
        await self.down()  # a namespace left by a killed run with the same pid
        host, ns, inside = self.host_if, self.ns_if, f"ip -n {self.name}"
        for command in (
            f"ip netns add {self.name}",
            f"ip link add {host} type veth peer name {ns} netns {self.name}",
            f"ip addr add {self.host_addr}/30 dev {host}",
            f"ip link set {host} up",
            f"{inside} addr add {self.ns_addr}/30 dev {ns}",
            f"{inside} link set {ns} up",
            f"{inside} link set lo up",
            f"{inside} route add default via {self.host_addr}",
        ):
            await run(*command.split())

    async def block_udp(self) -> None:
        """Drop every UDP datagram in and out of the namespace (RTP, RTCP, STUN, DTLS)."""
        for chain in ("INPUT", "OUTPUT"):
            await run(*f"ip netns exec {self.name} iptables -A {chain} -p udp -j DROP".split())

    async def unblock_udp(self) -> None:
        await run(*f"ip netns exec {self.name} iptables -F".split())

    async def down(self) -> None:
        """The one cleanup: the namespace, its iptables rules and the veth pair go with it."""
        await run("ip", "netns", "del", self.name, check=False)
        await run("ip", "link", "del", self.host_if, check=False)  # normally gone already


class Remote:
    """Client A in its own process inside the namespace (``media_helpers.py``), by pipes."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, ns: Namespace, url: str, source: str, stderr: Path) -> Remote:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PTT_TOKEN": mint_token(SECRET, "alice", CHANNEL, 600),
        }
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                "ip",
                "netns",
                "exec",
                ns.name,
                sys.executable,
                str(HELPER),
                url,
                CHANNEL,
                source,
                str(LIVENESS),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env=env,
            )
        return cls(proc, stderr)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):  # anything but a report is not for us
                self.events.append(json.loads(line))

    def mark(self) -> int:
        return len(self.events)

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    def find(
        self, kind: str, since: int = 0, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> dict[str, Any] | None:
        return next((e for e in self.events[since:] if e["type"] == kind and where(e)), None)

    async def wait(
        self,
        kind: str,
        since: int = 0,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
        within: float = WAIT,
    ) -> dict[str, Any]:
        try:
            await until(lambda: self.find(kind, since, where) is not None, within)
        except TimeoutError:
            seen = [
                (e["type"], e.get("state"), e.get("detail"), e.get("kind"))
                for e in self.events[since:]
            ]
            tail = self.stderr.read_text()[-2000:]
            raise AssertionError(f"A: no {kind} within {within} s; saw {seen}\n{tail}") from None
        found = self.find(kind, since, where)
        assert found is not None
        return found

    async def status(self) -> dict[str, Any]:
        mark = self.mark()
        await self.send("status")
        return await self.wait("status", mark)

    async def quit(self) -> dict[str, Any]:
        mark = self.mark()
        await self.send("quit")
        bye = await self.wait("bye", mark)
        async with asyncio.timeout(WAIT):
            assert await self.proc.wait() == 0
        await self._reader
        return bye

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def root_with_netns() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None and bool(shutil.which("iptables"))


@pytest.mark.netns
async def test_cut_signaling_and_media_while_talking_restores_the_sound(
    rig: Rig, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """A talks from inside a namespace; its signaling (proxy RST) and all its UDP
    (iptables DROP) are cut while it keeps holding the button. Twice:

    1. a short total outage: both come back together; A resumes the session on the same
       transports (aiortc never noticed) and B hears A again;
    2. the link comes back but the media path stays dead: A resumes, its own liveness
       check finds no receiver reports, the test lets UDP through again once A said so,
       A rebuilds its transports, takes the floor again, and B hears A again.
    """
    if not root_with_netns():
        pytest.skip("needs root, iproute2 and iptables (network namespaces)")
    ns = Namespace()
    remote: Remote | None = None
    try:
        await ns.up()
        # The SFU's ICE candidates are where the server listens: an address A can reach
        # from its namespace (the host end of the veth pair), not the host's loopback.
        await rig.start(host=ns.host_addr)
        proxy = await rig.proxy(host=ns.host_addr)  # A's signaling enters the host here
        url, stderr = proxy.url_for("/ptt"), tmp_path / "alice.stderr"
        remote = await Remote.start(ns, url, f"tone:{A_HZ:g}", stderr)
        await remote.wait("StateChanged", where=lambda e: e["state"] == "connected", within=20)
        # B's own liveness window must outlast A's (2 s while talking): a listener cannot
        # tell a dead speaker uplink from its own dead downlink, so with 1 s B would
        # rebuild its (healthy) media too before A notices.
        b = await rig.peer("bob", f"tone:{B_HZ:g}", liveness=4.0)
        await until(lambda: b.consumer_count() == 1)
        await remote.send("press")
        await remote.wait("ChannelChanged", where=lambda e: e["kind"] == "floor_granted")
        await hears(b, A_HZ, time.monotonic())
        first = await remote.status()
        b_mark, b_pcs = b.trace.mark(), b.pcs()

        gap = await total_outage(ns, proxy, remote, b)
        report(record_property, "netns_total_outage_reconnected_to_b_hears", gap)
        resumed = await remote.status()
        assert resumed["pcs"] == first["pcs"]  # signal-only resume: the same transports
        assert resumed["transmitting"] is True

        gaps = await media_dead_after_the_link_is_back(ns, proxy, remote, b)
        report(record_property, "netns_media_rebuild_reconnected_to_b_hears", gaps[0])
        report(record_property, "netns_media_dead_link_back_to_b_hears", gaps[1])
        rebuilt = await remote.status()
        assert rebuilt["transmitting"] is True
        assert set(rebuilt["pcs"]).isdisjoint(first["pcs"])  # new transports
        assert rebuilt["pc_states"] == ["connected", "connected"]
        # B followed A's new producer with exactly one consumer, and never reconnected.
        await until(lambda: b.consumer_count() == 1 == len(b.manager.channel.sources))
        assert "reconnecting" not in b.trace.states(b_mark)
        assert b.pcs() == b_pcs

        bye = await remote.quit()
        remote = None
        assert bye["tasks"] == []
        assert bye["open_pcs"] == []
        await rig.finish()
    finally:
        try:
            if remote is not None:
                await remote.kill()
        finally:
            await ns.down()


async def total_outage(ns: Namespace, proxy: FaultProxy, remote: Remote, b: Peer) -> float:
    """A's signaling and UDP are cut for 1 s, then both come back; the audio gap at B."""
    mark = remote.mark()
    await ns.block_udp()
    proxy.reset_all()  # RST now, and every reconnect attempt until pass_through
    cut = await remote.wait("StateChanged", mark, lambda e: e["state"] == "reconnecting")
    await asyncio.sleep(1.0)
    await ns.unblock_udp()
    proxy.pass_through()
    back = await remote.wait("Reconnected", mark)
    assert back["resumed"] is True
    assert b.tap.tone_times(A_HZ, cut["t"] + 0.3, back["t"]) == []  # A was really gone
    return await hears(b, A_HZ, back["t"]) - back["t"]


async def media_dead_after_the_link_is_back(
    ns: Namespace, proxy: FaultProxy, remote: Remote, b: Peer
) -> tuple[float, float]:
    """Both cut; the link comes back first, UDP only once A's liveness check gave up.

    Returns the audio gap at B from A's final ``Reconnected`` and from the first one
    (the link restored over dead media)."""
    mark = remote.mark()
    await ns.block_udp()
    proxy.reset_all()
    await remote.wait("StateChanged", mark, lambda e: e["state"] == "reconnecting")
    await asyncio.sleep(0.5)
    proxy.pass_through()  # signaling back; UDP still dropped
    link_back = await remote.wait("Reconnected", mark)
    assert link_back["resumed"] is True
    dead = await remote.wait(
        "Reconnecting",
        mark,
        # A learns of its dead uplink from the server (floor revoked: "uplink stalled") or
        # from its own send check ("no receiver reports"), whichever comes first.
        lambda e: "no receiver reports" in e["cause"] or "uplink stalled" in e["cause"],
        within=6.0,
    )
    await ns.unblock_udp()
    back = await remote.wait("Reconnected", remote.mark())
    heard_at = await hears(b, A_HZ, back["t"])
    # The cut was real: nothing of A reached B between the link's return and the rebuild.
    assert b.tap.tone_times(A_HZ, link_back["t"] + 0.3, dead["t"]) == []
    return heard_at - back["t"], heard_at - link_back["t"]


# === 3. B (listening) loses its link ===================================================
async def test_listener_link_drop_restores_its_consumers_without_duplicates(
    rig: Rig, record_property: Callable[[str, object], None]
) -> None:
    """Two remote producers (A, C); B listens to A while B's signaling is reset:

    1. a short drop: B resumes its session; the consume step runs again and must keep
       exactly the two consumers it had (no duplicate on the client or on the server);
    2. a drop longer than the server's grace: B's session is gone, B joins afresh and
       re-creates both consumers, once each.
    """
    server = await rig.start(grace=GRACE)
    a = await rig.peer("alice", f"tone:{A_HZ:g}")
    c = await rig.peer("carol", f"tone:{C_HZ:g}")
    b = await rig.peer("bob", f"tone:{B_HZ:g}")
    await rig.consuming(2)
    a.manager.ptt.press()
    await a.trace.wait(ChannelChanged, where=floor_event("floor_granted"))
    await hears(b, A_HZ, time.monotonic())
    consumers = b.media.consumers()
    pcs = b.pcs()
    assert set(consumers) == b.sources()  # A's and C's producers
    consumes = server.stats.methods("bob").count("consume")
    assert consumes == 2

    # --- 1: short drop, session resumed: B's media never stopped ---------------------------
    mark = b.trace.mark()
    cut_at = time.monotonic()
    b.proxy.reset_now()
    back_at, back = await b.trace.wait(Reconnected, mark)
    await hears(b, A_HZ, back_at)
    gap, _ = b.tap.longest_gap(A_HZ, cut_at - 0.3, time.monotonic())
    report(record_property, "listener_resume_longest_gap_at_b", gap)
    assert gap < MAX_GAP
    assert back.resumed is True
    assert b.pcs() == pcs
    assert b.media.consumers() == consumers  # the same two, none added
    assert server.stats.methods("bob").count("consume") == consumes

    # --- 2: drop longer than the grace, fresh session -------------------------------------
    rig.note_pcs()
    mark = b.trace.mark()
    b.proxy.reset_all()
    await b.trace.wait(StateChanged, mark, is_state("reconnecting"))
    await asyncio.sleep(GRACE + 0.7)
    b.proxy.pass_through()
    back_at, back = await b.trace.wait(Reconnected, mark)
    heard_at = await hears(b, A_HZ, back_at)
    report(record_property, "listener_rejoin_reconnected_to_b_hears", heard_at - back_at)
    assert back.resumed is False
    producers = b.sources()
    assert producers == set(consumers)  # A and C kept their producers
    assert b.consumer_count() == len(b.manager.channel.sources) == len(producers) == 2
    assert set(b.media.consumers().values()).isdisjoint(consumers.values())  # re-created
    assert server.stats.methods("bob").count("consume") == consumes + 2  # once each
    assert not set(b.pcs()) & set(pcs)
    assert "reconnecting" not in a.trace.states() + c.trace.states()
    await rig.finish()


# === 4. Floor contention ================================================================
async def test_floor_denied_with_tone_then_granted_after_the_speaker_drops_out(
    rig: Rig,
) -> None:
    await rig.start()
    a = await rig.peer("alice", f"tone:{A_HZ:g}")
    b = await rig.peer("bob", f"tone:{B_HZ:g}")
    c = await rig.peer("carol", f"tone:{C_HZ:g}")
    await rig.consuming(2)
    a.manager.ptt.press()
    await a.trace.wait(ChannelChanged, where=floor_event("floor_granted"))
    await hears(b, A_HZ, time.monotonic())

    # C presses while A holds the floor: denied, and C hears the deny beep.
    mark = c.trace.mark()
    c.manager.ptt.press()
    denied_at, _ = await c.trace.wait(ChannelChanged, mark, floor_event("floor_denied"))
    assert not c.manager.transmitting
    assert c.tones_since(denied_at - 0.01) == [Tone.FLOOR_DENIED]
    await asyncio.sleep(0.6)
    beep = peak_tone_level_dbfs(c.tap.heard(denied_at, denied_at + 0.5), DENY_HZ)
    quiet = peak_tone_level_dbfs(c.tap.heard(denied_at - 0.6, denied_at - 0.1), DENY_HZ)
    print(f"deny beep in C's audio: {beep:.1f} dBFS at {DENY_HZ:g} Hz (before: {quiet:.1f})")
    assert beep > -27, f"no deny beep in C's audio ({beep:.1f} dBFS at {DENY_HZ:g} Hz)"
    assert quiet < -50, f"{DENY_HZ:g} Hz in C's audio before the deny ({quiet:.1f} dBFS)"
    assert b.tap.first_run(C_HZ, denied_at - 0.5) is None  # C's microphone stayed closed
    c.manager.ptt.release()

    # A drops out (its network dies; it keeps retrying): the server frees the floor.
    mark = c.trace.mark()
    a.proxy.reset_all()
    await c.trace.wait(ChannelChanged, mark, floor_freed)
    assert a.manager.state == "reconnecting"
    c.manager.ptt.press()
    granted_at, _ = await c.trace.wait(ChannelChanged, mark, floor_event("floor_granted"))
    assert Tone.TALK_PERMITTED in c.tones_since(granted_at - 0.01)
    await hears(b, C_HZ, granted_at)

    # A comes back still holding its button: its restore asks for the floor and is denied;
    # B keeps hearing C, never A.
    a_mark = a.trace.mark()
    a.proxy.pass_through()
    back_at, _ = await a.trace.wait(Reconnected, a_mark)
    await a.trace.wait(ChannelChanged, a_mark, floor_event("floor_denied"))
    assert Tone.FLOOR_DENIED in a.tones_since(back_at - 0.5)
    await asyncio.sleep(0.5)
    assert b.tap.tone_times(A_HZ, granted_at + 0.3) == []
    assert b.tap.first_run(C_HZ, back_at) is not None
    await rig.finish()


# === 5. Only the WebSocket drops ========================================================
async def test_signal_only_resume_keeps_transports_and_the_audio_flowing(
    rig: Rig, record_property: Callable[[str, object], None]
) -> None:
    server = await rig.start()
    a = await rig.peer("alice", f"tone:{A_HZ:g}")
    b = await rig.peer("bob", f"tone:{B_HZ:g}")
    await rig.consuming(1)
    a.manager.ptt.press()
    await a.trace.wait(ChannelChanged, where=floor_event("floor_granted"))
    await hears(b, A_HZ, time.monotonic(), within=WAIT)
    await asyncio.sleep(0.5)
    pcs_a, pcs_b = a.pcs(), b.pcs()
    consumers_b = b.media.consumers()
    requests_a = len(server.stats.methods("alice"))
    b_mark = b.trace.mark()

    mark = a.trace.mark()
    cut_at = time.monotonic()
    a.proxy.reset_now()  # RST A's WebSocket; UDP untouched
    back_at, back = await a.trace.wait(Reconnected, mark)
    await asyncio.sleep(1.0)
    end = time.monotonic()

    assert back.resumed is True
    assert a.pcs() == pcs_a  # the same RTCPeerConnection objects, in order
    assert b.pcs() == pcs_b
    assert b.media.consumers() == consumers_b
    assert a.manager.transmitting
    assert b.trace.states(b_mark) == []  # B never noticed
    after = server.stats.methods("alice")[requests_a:]
    assert "join" in after
    assert not {"createWebRtcTransport", "produce", "consume"} & set(after)
    gap, gap_at = b.tap.longest_gap(A_HZ, cut_at - 0.5, end)
    report(record_property, "signal_only_longest_gap_at_b", gap)
    since = gap_at - cut_at
    print(f"  (A reconnected {back_at - cut_at:.3f} s after the cut; gap from {since:+.3f} s)")
    assert gap < MAX_GAP, f"B heard a {gap:.3f} s hole in A's audio"
    await rig.finish()
