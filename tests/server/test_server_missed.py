"""Messages for a member whose link is down are kept for its resume and replayed in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]
MakeServer = Callable[..., Awaitable[PttServer]]


async def _drop(server: PttServer, client: RawClient, user: str) -> None:
    """Cut the client's TCP connection (no close frame) and wait until the server saw it."""
    client.ws.transport.abort()
    async with asyncio.timeout(5.0):
        while server.links(user):  # noqa: ASYNC110  (the server state has no event)
            await asyncio.sleep(0.01)


def _relayed(client: RawClient) -> list[Any]:
    return [n["data"]["data"] for n in client.notes if n["method"] == protocol.MESSAGE]


async def test_resume_replays_what_was_sent_while_down_once_in_order(
    make_server: MakeServer, connect: Connect
) -> None:
    """5 messages sent while bob's link is down reach him on resume, in order, once each,
    before anything sent after the resume; a resent msg_id is still a duplicate."""
    server = await make_server(grace=5.0)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await _drop(server, bob, "bob")
    sent = [{"msg_id": f"m{n}", "n": n} for n in range(5)]
    for data in sent:
        assert await alice.ok(protocol.MESSAGE, data) == {}
    assert await alice.ok(protocol.MESSAGE, sent[2]) == {"duplicate": True}

    again = await connect("bob", to=server, session_id=bob.joined["session_id"])
    assert (again.joined["resumed"], again.joined["missed"]) == (True, 0)
    await alice.ok(protocol.MESSAGE, {"msg_id": "after", "n": 5})
    await again.wait_for(lambda: len(_relayed(again)) >= 6, within=5.0)
    await asyncio.sleep(0.2)  # nothing more may follow
    assert [d["n"] for d in _relayed(again)] == [0, 1, 2, 3, 4, 5]
    assert server.stats.dropped["missed_overflow"] == 0


async def test_overflow_drops_the_oldest_and_is_counted(
    make_server: MakeServer, connect: Connect
) -> None:
    """Past the buffer the oldest are dropped: the resume gets the newest and the count."""
    from adapters.server.missed import MISSED_LIMIT

    server = await make_server(grace=5.0, max_rps=10_000)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await _drop(server, bob, "bob")
    total = MISSED_LIMIT + 7
    for n in range(total):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}", "n": n})
    assert server.stats.dropped["missed_overflow"] == 7

    again = await connect("bob", to=server, session_id=bob.joined["session_id"])
    assert (again.joined["resumed"], again.joined["missed"]) == (True, 7)
    await again.wait_for(lambda: len(_relayed(again)) >= MISSED_LIMIT, within=5.0)
    assert [d["n"] for d in _relayed(again)] == list(range(7, total))


async def test_a_fresh_rejoin_is_told_how_many_it_missed(
    make_server: MakeServer, connect: Connect
) -> None:
    """After the grace period the session is gone: a rejoin naming it gets ``missed``."""
    server = await make_server(grace=0.3)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await _drop(server, bob, "bob")
    for n in range(3):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}", "n": n})
    await alice.note(protocol.PEER_LEFT, within=3.0)

    again = await connect("bob", to=server, session_id=bob.joined["session_id"])
    assert (again.joined["resumed"], again.joined["missed"]) == (False, 3)
    await asyncio.sleep(0.2)
    assert _relayed(again) == []  # a new session starts from now
    later = await connect("bob", to=server, session_id=bob.joined["session_id"])
    assert later.joined["missed"] == 0  # told once


async def test_zero_grace_still_reports_what_the_dropped_session_missed(
    make_server: MakeServer, connect: Connect
) -> None:
    """Without a grace period nothing is kept, and a rejoin is told nothing was owed."""
    server = await make_server(grace=0)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await _drop(server, bob, "bob")
    await alice.ok(protocol.MESSAGE, {"msg_id": "m0"})
    again = await connect("bob", to=server, session_id=bob.joined["session_id"])
    assert (again.joined["resumed"], again.joined["missed"]) == (False, 0)
