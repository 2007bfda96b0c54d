"""What the soak watches for growth: this process's tasks, fds, RSS, threads, live peer
connections, and the server's per-client state, sampled at quiet moments."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from dataclasses import dataclass, field

#: The resources a soak samples, in table order.
RESOURCES = ("tasks", "fds", "threads", "pcs", "rss_mb")


@dataclass(frozen=True)
class Sample:
    """One reading, taken after cycle ``cycle`` with every client connected."""

    cycle: int
    tasks: int
    fds: int
    threads: int
    pcs: int
    rss_mb: float
    server: dict[str, int] = field(default_factory=dict)

    def value(self, resource: str) -> float:
        return float(getattr(self, resource))


def take(cycle: int, server: dict[str, int] | None = None) -> Sample:
    """Read everything now (a full ``gc.collect()`` first, so garbage is not a leak)."""
    gc.collect()
    return Sample(
        cycle=cycle,
        tasks=sum(1 for t in asyncio.all_tasks() if not t.done()),
        fds=len(os.listdir("/proc/self/fd")),
        threads=_threads(),
        pcs=live_peer_connections(),
        rss_mb=_rss_bytes() / 2**20,
        server=dict(server or {}),
    )


def live_peer_connections() -> int:
    """aiortc ``RTCPeerConnection`` objects of this process that are not closed (0 when
    aiortc was never imported: nothing is imported to count nothing)."""
    module = sys.modules.get("aiortc")
    if module is None:
        return 0
    kind = module.RTCPeerConnection
    return sum(
        1 for obj in gc.get_objects() if isinstance(obj, kind) and obj.connectionState != "closed"
    )


def _threads() -> int:
    """OS threads of the process (aiortc's and PortAudio's too, not only Python's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
