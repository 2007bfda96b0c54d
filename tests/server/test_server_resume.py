"""Sessions outlive sockets for the grace period; after it, the member is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]


async def test_resume_within_grace_keeps_peer_without_churn(connect: Connect) -> None:
    """A join with the session id inside the grace period resumes the same peer quietly."""
    alice, bob = await connect("alice"), await connect("bob")
    await alice.note(protocol.PEER_JOINED)
    await bob.ws.close()
    again = await connect("bob", session_id=bob.joined["session_id"])
    assert again.joined["resumed"] is True
    assert again.joined["peer_id"] == bob.joined["peer_id"]
    assert again.joined["session_id"] == bob.joined["session_id"]
    assert again.joined["members"] == [alice.joined["peer_id"], bob.joined["peer_id"]]
    await asyncio.sleep(0.4)  # past the 0.3 s grace: the resumed session must survive it
    await alice.ok("message", {"after": "grace"})
    await again.note("message")
    assert alice.methods() == [protocol.PEER_JOINED]


async def test_member_removed_after_grace(connect: Connect) -> None:
    """Past the grace period the others hear peerLeft and the session id no longer resumes."""
    alice, bob = await connect("alice"), await connect("bob")
    await bob.ws.close()
    left = await alice.note(protocol.PEER_LEFT, within=1.0)
    assert left == {"peer_id": bob.joined["peer_id"], "user": "bob"}
    again = await connect("bob", session_id=bob.joined["session_id"])
    assert again.joined["resumed"] is False
    assert again.joined["peer_id"] != bob.joined["peer_id"]


async def test_member_stays_listed_during_grace(connect: Connect) -> None:
    """A member in its grace period is still a member for those who join meanwhile."""
    bob = await connect("bob")
    await bob.ws.close()
    carol = await connect("carol")
    assert bob.joined["peer_id"] in carol.joined["members"]


async def test_someone_elses_session_id_does_not_resume(connect: Connect) -> None:
    """A session id only resumes for the user (and channel) that owns it."""
    alice = await connect("alice")
    await alice.ws.close()
    mallory = await connect("mallory", session_id=alice.joined["session_id"])
    assert mallory.joined["resumed"] is False
    assert mallory.joined["peer_id"] != alice.joined["peer_id"]


@pytest.mark.parametrize("grace", [0.3, 0.0])
async def test_resume_takes_over_a_socket_not_yet_seen_dead(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect, grace: float
) -> None:
    """Resuming while the old socket still looks open moves the session to the new one
    (whatever the grace period), and its floor is freed for the replay."""
    server = await make_server(grace=grace)
    alice = await connect("alice", to=server)
    old = await connect("bob", to=server)
    await old.ok("pttStart", {"tx_id": "t1"})
    new = await connect("bob", to=server, session_id=old.joined["session_id"])
    assert new.joined["resumed"] is True
    assert await old.closed() == 1000
    assert (await new.ok("pttStart", {"tx_id": "t1"}))["granted"] is True
    assert server.links("bob") == 1
    await asyncio.sleep(0.35)
    await new.ok("message", {"still": "member"})
    await alice.note("message")
    assert alice.find(protocol.PEER_LEFT) is None


async def test_zero_grace_ends_sessions_with_the_socket(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """With no grace period a dropped socket ends its session at once."""
    server = await make_server(grace=0)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await bob.ws.close()
    await alice.note(protocol.PEER_LEFT, within=0.5)
