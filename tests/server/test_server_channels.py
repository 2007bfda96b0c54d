"""Membership: join results, peer notifications, leave, relay, limits on members."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]


async def test_join_result_and_peer_joined(connect: Connect) -> None:
    """A join answers the JoinResult; the members already there hear peerJoined."""
    alice = await connect("alice")
    first = alice.joined
    assert set(first) == {
        "session_id", "resumed", "peer_id", "members", "names", "speaker", "producers",
        "missed",
    }  # fmt: skip
    assert (first["resumed"], first["missed"]) == (False, 0)
    assert first["members"] == [first["peer_id"]]
    assert (first["speaker"], first["producers"]) == (None, [])

    bob = await connect("bob")
    assert bob.joined["members"] == [first["peer_id"], bob.joined["peer_id"]]
    assert bob.joined["peer_id"] != first["peer_id"]
    assert bob.joined["session_id"] != first["session_id"]
    note = await alice.note(protocol.PEER_JOINED)
    assert note == {"peer_id": bob.joined["peer_id"], "user": "bob"}
    assert bob.notes == []


async def test_leave_ends_the_session_at_once(connect: Connect) -> None:
    """An explicit leave tells the others right away and forgets the session."""
    alice, bob = await connect("alice"), await connect("bob")
    assert await bob.ok("leave", {"channel": "ops"}) == {}
    assert await alice.note(protocol.PEER_LEFT) == {"peer_id": bob.joined["peer_id"], "user": "bob"}
    assert await bob.error("pttStart", {"tx_id": "t"}) == protocol.E_NOT_JOINED
    again = await bob.join("ops", session_id=bob.joined["session_id"])
    assert again["resumed"] is False


async def test_requests_that_need_a_join(connect: Connect) -> None:
    """Channel requests before a join are refused with not_joined; ping needs none."""
    client = await connect("alice", join=False)
    for method, data in [
        ("pttStart", {"tx_id": "t"}),
        ("pttStop", {"tx_id": "t"}),
        ("message", {"text": "hi"}),
        ("leave", {"channel": "ops"}),
        ("createWebRtcTransport", {"direction": "send"}),
    ]:
        assert await client.error(method, data) == protocol.E_NOT_JOINED, method
    assert isinstance((await client.ok("ping"))["t"], float)
    assert await client.ok("getRouterRtpCapabilities") == {"codecs": []}


async def test_join_twice_and_leave_other_channel(connect: Connect) -> None:
    """A second join on the same link and a leave naming another channel are refused."""
    client = await connect("alice")
    assert await client.error("join", {"channel": "ops"}) == protocol.E_BAD_REQUEST
    assert await client.error("leave", {"channel": "other"}) == protocol.E_NOT_JOINED
    assert await client.error("join", {}) == protocol.E_BAD_REQUEST


async def test_message_relayed_to_others_and_logged_in_order(
    server: PttServer, connect: Connect
) -> None:
    """``message`` answers {}, reaches every other member once, numbered from 1 per
    member (``seq``), and is logged in order."""
    alice, bob, carol = await connect("alice"), await connect("bob"), await connect("carol")
    payloads = [{"seq": i, "text": f"m{i}"} for i in range(5)]
    for payload in payloads:
        assert await alice.ok("message", payload) == {}
    for client in (bob, carol):
        await client.wait_for(lambda c=client: c.methods().count("message") == 5)  # type: ignore[misc]
        relayed = [n["data"] for n in client.notes if n["method"] == "message"]
        sender = alice.joined["peer_id"]
        numbered = [{"from": sender, "data": p, "seq": n + 1} for n, p in enumerate(payloads)]
        assert relayed == numbered
    assert "message" not in alice.methods()
    assert server.stats.messages("alice") == payloads
    assert server.stats.methods("alice") == ["join", *["message"] * 5]


async def test_channel_full(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """Past max_members a join is refused with channel_full; a leave makes room."""
    server = await make_server(max_members=2)
    first = await connect("a", to=server)
    await connect("b", to=server)
    third = await connect("c", to=server, join=False)
    assert await third.error("join", {"channel": "ops"}) == protocol.E_CHANNEL_FULL
    await first.ok("leave", {"channel": "ops"})
    assert (await third.join("ops"))["resumed"] is False


async def test_channels_are_separate(connect: Connect) -> None:
    """Members of one channel do not hear another channel."""
    alice, bob = await connect("alice", "ops"), await connect("bob", "ops")
    other = await connect("zed", "other")
    await other.ok("message", {"x": 1})
    await alice.ok("message", {"x": 2})
    await bob.note("message")
    assert other.notes == []
    assert other.joined["members"] == [other.joined["peer_id"]]
