"""A short soak (40 fault cycles, about 45 s) with assertions, and the message loss it
used to show (into a silently dead link) pinned down on its own.

The full run is ``ptt soak`` (1,000 cycles, a printed verdict); see the README.
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.testing.soak import Bounds, SoakConfig, run_soak
from adapters.testing.soak.faults import BLACKHOLE_SECONDS
from adapters.testing.soak.rig import SEQ, Rig

pytestmark = pytest.mark.e2e

#: Generous for 40 cycles: a per-cycle leak of one task, fd, thread or peer connection
#: grows by 100 per 100 cycles; the allocator's early growth is a few MB.
SHORT_BOUNDS = Bounds(tasks=1.0, fds=1.0, threads=1.0, pcs=1.0, rss_mb=25.0)


async def test_forty_fault_cycles_leave_nothing_behind() -> None:
    """Resets, blackholes, restarts and mixes: every client comes back, nothing grows,
    no message is duplicated and none is lost."""
    config = SoakConfig(
        cycles=40, sample_every=5, warmup=10, bounds=SHORT_BOUNDS, delivery_limit=1.5
    )
    report = await run_soak(config)
    print("\n" + "\n".join(report.lines()))

    assert report.stuck == []
    assert report.leaks() == []
    assert report.duplicated == 0
    assert report.sent == 40
    assert report.lost == [], report.lost_how  # seq/last_seq replays what a dead link ate
    assert max(report.recoveries()) < 10.0
    last = report.samples[-1].server
    assert (last["links"], last["sessions"], last["channels"]) == (3, 3, 1)
    assert last["missed_buffered"] == 0
    assert last["background_tasks"] == 0


async def test_message_relayed_into_a_silently_dead_link_is_delivered_after_resume() -> None:
    """A message sent while the receiver's path is blackholed reaches it once it resumed."""
    rig = Rig(clients=2)
    try:
        await rig.start()
        sender, receiver = rig.members
        mark = receiver.watch.entries
        receiver.proxy.blackhole()
        sender.manager.send_message({SEQ: 1})  # relayed at once into the dead socket
        await asyncio.sleep(BLACKHOLE_SECONDS)
        receiver.proxy.pass_through()
        assert await rig.until(lambda: receiver.watch.entries > mark and receiver.connected, 10)
        assert await rig.until(lambda: receiver.watch.received[1] > 0, 3.0)
    finally:
        await rig.close()
