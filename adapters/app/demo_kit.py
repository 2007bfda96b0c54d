"""What every ``ptt demo`` story shares: Bob's ears, one measured fault, the cast's start
and the verdict. The stories themselves (``demo.py`` for the reference server,
``demo_janus.py`` for Janus) only say which faults to inject and how to judge them."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from adapters.devices.audio import MemoryTap, dominant_frequency, rms_dbfs
from adapters.devices.audio.frames import Samples
from adapters.manager import ConnectionManager
from adapters.testing.faultproxy import FaultProxy

from .demo_view import render_table

ALICE_HZ = 523.0  # Alice's voice: Bob's ears look for this frequency


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


class Stage(Protocol):
    """What :func:`measure` needs of a story: the clients by name and Bob's ears."""

    @property
    def clients(self) -> Mapping[str, ConnectionManager]: ...

    @property
    def ears(self) -> VoiceTap: ...


async def wait_until(predicate: Callable[[], bool], limit: float) -> float | None:
    """Seconds until ``predicate()`` holds, or None after ``limit`` seconds."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():
            return time.monotonic() - start
        await asyncio.sleep(0.01)
    return None


async def measure(
    story: Stage,
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
    detection = await wait_until(lambda: client.state != "connected", 15)
    if hold:
        await asyncio.sleep(hold)
    if heal is not None:
        await heal()
    recovered = await wait_until(
        lambda: client.state == "connected" and client.metrics.recoveries > recoveries, 20
    )
    back = time.monotonic()
    recovery = None if recovered is None else back - start
    # Bob must hear Alice again *after* the recovery: only then is the gap known.
    ears = story.ears
    heard_again = await wait_until(lambda: bool(ears.heard) and ears.heard[-1] > back, 5)
    gap = ears.longest_gap(start, time.monotonic()) if heard_again is not None else None
    result = FaultResult(
        fault,
        detection=detection,
        recovery=recovery,
        audio_gap=gap,
        dropped=sum(client.metrics.dropped.values()) - dropped_before,
    )
    result.passed = None not in (detection, recovery, gap)
    return result


async def silent_blackhole(story: Stage, who: str, proxy: FaultProxy, ping: float) -> FaultResult:
    """No FIN, no RST on ``who``'s path: only pings notice, within twice ``ping`` (the
    interval plus the timeout) and a margin."""

    async def blackhole() -> None:
        proxy.blackhole()

    async def heal() -> None:
        proxy.pass_through()

    result = await measure(story, "silent blackhole", who, blackhole, heal=heal, hold=0.5)
    bound = 2 * ping + 0.5
    result.passed = result.passed and result.detection is not None and result.detection < bound
    result.note = f"bound {bound:.1f} s"
    return result


async def start_cast(clients: Mapping[str, ConnectionManager], ears: VoiceTap) -> None:
    """Connect everyone, then Alice presses (and keeps holding) until Bob hears her."""
    for client in clients.values():
        await client.connect()
    for client in clients.values():
        await client.wait_for("connected", 15)
    clients["alice"].ptt.press()
    await wait_until(lambda: bool(ears.heard), 10)


def verdict(results: Sequence[FaultResult], started: float, out: Path) -> int:
    """Print the table; exit code 0 only when there are results and every one passed."""
    print(render_table(results))
    print(f"demo finished in {time.monotonic() - started:.1f} s; audio files in {out}")
    return 0 if results and all(r.passed for r in results) else 1
