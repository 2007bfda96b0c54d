"""Nothing the server keeps grows with traffic, and a departed client leaves nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]
MakeServer = Callable[..., Awaitable[PttServer]]

WINDOW = 512  # adapters.server.stats.WINDOW, spelled out: the documented bound


async def test_stats_stay_bounded_under_messages_and_pings(
    make_server: MakeServer, connect: Connect
) -> None:
    """1,200 messages and 600 pings: the per-request detail stays within the window,
    the totals are counters."""
    server = await make_server(max_rps=10_000)
    alice, _ = await connect("alice", to=server), await connect("bob", to=server)
    for n in range(1200):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}", "n": n})
        if n % 2:
            await alice.ok(protocol.PING)
    assert len(server.stats.requests["alice"]) <= WINDOW
    assert len(server.stats.delivered["alice"]) <= WINDOW
    assert [d["n"] for d in server.stats.delivered["alice"]][-1] == 1199  # newest kept
    assert server.stats.request_counts[protocol.MESSAGE] == 1200
    assert server.stats.request_counts[protocol.PING] == 600
    assert server.stats.relayed_count == 1200
    assert server.stats.stored() <= 2 * WINDOW


async def test_a_departed_client_leaves_nothing_behind(
    make_server: MakeServer, connect: Connect
) -> None:
    """Once everyone left and forget_after passed, every per-client count is back to 0."""
    server = await make_server(grace=0.2, forget_after=0.2)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    for n in range(20):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}"})
        await bob.ok(protocol.PING)
    await bob.ws.close()
    await alice.ok(protocol.MESSAGE, {"msg_id": "while-bob-is-away"})  # owed to bob
    await alice.ws.close()
    async with asyncio.timeout(5.0):
        while server.stats.requests or any(server.footprint().values()):  # noqa: ASYNC110  (no event to wait on)
            await asyncio.sleep(0.05)
    assert server.stats.delivered == {}
    assert set(server.footprint().values()) == {0}


async def test_a_user_back_within_forget_after_is_still_deduplicated(
    make_server: MakeServer, connect: Connect
) -> None:
    """A resend after a fresh rejoin (the first copy arrived) is still a duplicate."""
    server = await make_server(grace=0, forget_after=5.0)
    alice = await connect("alice", to=server)
    await alice.ok(protocol.MESSAGE, {"msg_id": "once"})
    await alice.ws.close()
    again = await connect("alice", to=server)
    assert await again.ok(protocol.MESSAGE, {"msg_id": "once"}) == {"duplicate": True}
