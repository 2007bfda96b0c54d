"""Delivery numbers: every relayed message gets its member's next ``seq``; a resume that
says its ``last_seq`` gets everything after it, even what a dead socket swallowed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.missed import MISSED_LIMIT
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]
MakeServer = Callable[..., Awaitable[PttServer]]


def _relayed(client: RawClient) -> list[dict[str, Any]]:
    return [n["data"] for n in client.notes if n["method"] == protocol.MESSAGE]


async def _resume(connect: Connect, server: PttServer, old: RawClient, **data: Any) -> RawClient:
    """Open a second socket for ``bob`` and resume ``old``'s session on it with ``data``."""
    again = await connect("bob", to=server, join=False)
    session = {"channel": "ops", "session_id": old.joined["session_id"], **data}
    again.joined = await again.ok(protocol.JOIN, session)
    return again


async def test_a_resume_replays_after_last_seq_what_was_written_into_a_dead_socket(
    make_server: MakeServer, connect: Connect
) -> None:
    """Bob's old socket got seqs 1-4 written, but his client only saw seq 1 (the path died
    silently): a resume with ``last_seq`` 1 replays 2-4 in order, then live messages."""
    server = await make_server(grace=5.0)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    for n in range(4):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}", "n": n})
    await bob.wait_for(lambda: len(_relayed(bob)) == 4)
    assert [d["seq"] for d in _relayed(bob)] == [1, 2, 3, 4]

    again = await _resume(connect, server, bob, last_seq=1)  # the old socket still looks open
    assert (again.joined["resumed"], again.joined["missed"]) == (True, 0)
    await alice.ok(protocol.MESSAGE, {"msg_id": "after", "n": 4})
    await again.wait_for(lambda: len(_relayed(again)) >= 4)
    await asyncio.sleep(0.2)  # nothing more may follow
    assert [(d["seq"], d["data"]["n"]) for d in _relayed(again)] == [(2, 1), (3, 2), (4, 3), (5, 4)]
    assert server.footprint()["replay_kept"] == 4  # 2-5: kept until a resume proves them


async def test_a_resume_trims_what_the_client_has(
    make_server: MakeServer, connect: Connect
) -> None:
    """``last_seq`` proves what the client has: the server lets it go and replays nothing."""
    server = await make_server(grace=5.0)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    for n in range(3):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}"})
    await bob.wait_for(lambda: len(_relayed(bob)) == 3)
    assert server.footprint()["replay_kept"] == 3
    assert server.footprint()["missed_buffered"] == 0  # all written: nothing owed outright

    again = await _resume(connect, server, bob, last_seq=3)
    assert again.joined["missed"] == 0
    assert server.footprint()["replay_kept"] == 0
    await asyncio.sleep(0.2)
    assert _relayed(again) == []


async def test_history_past_its_bound_is_reported_as_missed(
    make_server: MakeServer, connect: Connect
) -> None:
    """Only the newest MISSED_LIMIT are kept: a resume from 0 gets those and the gap."""
    server = await make_server(grace=5.0, max_rps=10_000)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    total = MISSED_LIMIT + 5
    for n in range(total):
        await alice.ok(protocol.MESSAGE, {"msg_id": f"m{n}", "n": n})
    await bob.wait_for(lambda: len(_relayed(bob)) == total, within=5.0)
    assert server.footprint()["replay_kept"] == MISSED_LIMIT
    assert server.stats.dropped["missed_overflow"] == 0  # written, so not known to be lost

    again = await _resume(connect, server, bob, last_seq=0)
    assert (again.joined["resumed"], again.joined["missed"]) == (True, 5)
    await again.wait_for(lambda: len(_relayed(again)) >= MISSED_LIMIT, within=5.0)
    assert [d["seq"] for d in _relayed(again)] == list(range(6, total + 1))


async def test_a_new_session_numbers_from_one(make_server: MakeServer, connect: Connect) -> None:
    """Seqs count per session: a fresh join (and last_seq on it) starts again at 1."""
    server = await make_server(grace=0)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await alice.ok(protocol.MESSAGE, {"msg_id": "m0"})
    await bob.wait_for(lambda: len(_relayed(bob)) == 1)
    await bob.ws.close()
    await alice.note(protocol.PEER_LEFT, within=3.0)
    again = await _resume(connect, server, bob, last_seq=1)
    assert again.joined["resumed"] is False
    await alice.ok(protocol.MESSAGE, {"msg_id": "m1"})
    await again.wait_for(lambda: len(_relayed(again)) == 1)
    assert _relayed(again)[0]["seq"] == 1


@pytest.mark.parametrize("last_seq", [-1, True, "3", 1.5])
async def test_a_malformed_last_seq_is_a_bad_request(connect: Connect, last_seq: Any) -> None:
    """``last_seq`` must be an integer >= 0."""
    bob = await connect("bob", join=False)
    data = {"channel": "ops", "session_id": "s", "last_seq": last_seq}
    assert await bob.error(protocol.JOIN, data) == protocol.E_BAD_REQUEST
