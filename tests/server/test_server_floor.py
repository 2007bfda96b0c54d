"""Floor control: one speaker, idempotent by tx_id, released on stop, drop or timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]


async def test_contention_one_speaker(connect: Connect) -> None:
    """The first start wins; the second is denied naming the speaker; all hear the change."""
    alice, bob = await connect("alice"), await connect("bob")
    a, b = alice.joined["peer_id"], bob.joined["peer_id"]
    assert await alice.ok("pttStart", {"tx_id": "a1"}) == {
        "granted": True,
        "tx_id": "a1",
        "speaker": a,
    }
    assert await bob.ok("pttStart", {"tx_id": "b1"}) == {
        "granted": False,
        "tx_id": "b1",
        "speaker": a,
    }
    for client in (alice, bob):
        assert await client.note(protocol.SPEAKER_CHANGED) == {"peer_id": a, "tx_id": "a1"}
    assert await alice.ok("pttStop", {"tx_id": "a1"}) == {"released": True}
    await bob.note(protocol.SPEAKER_CHANGED, peer_id=None)
    assert (await bob.ok("pttStart", {"tx_id": "b2"}))["granted"] is True
    await alice.note(protocol.SPEAKER_CHANGED, peer_id=b, tx_id="b2")
    late = await connect("carol")
    assert late.joined["speaker"] == b


async def test_replayed_start_and_stale_stop_change_nothing(connect: Connect) -> None:
    """A repeated start of the holding tx is granted quietly; a stop of another tx is a no-op."""
    alice, bob = await connect("alice"), await connect("bob")
    await alice.ok("pttStart", {"tx_id": "a1"})
    assert (await alice.ok("pttStart", {"tx_id": "a1"}))["granted"] is True
    assert await alice.ok("pttStop", {"tx_id": "old"}) == {"released": False}
    assert await bob.ok("pttStop", {"tx_id": "a1"}) == {"released": False}
    await alice.ok("ping")
    assert bob.methods().count(protocol.SPEAKER_CHANGED) == 1
    assert (await bob.ok("pttStart", {"tx_id": "b1"}))["granted"] is False


async def test_stopped_transmission_cannot_restart(connect: Connect) -> None:
    """A late replay of a start whose stop was already handled does not take the floor."""
    alice = await connect("alice")
    await alice.ok("pttStart", {"tx_id": "a1"})
    await alice.ok("pttStop", {"tx_id": "a1"})
    assert await alice.ok("pttStart", {"tx_id": "a1"}) == {
        "granted": False,
        "tx_id": "a1",
        "speaker": None,
    }
    assert (await alice.ok("pttStart", {"tx_id": "a2"}))["granted"] is True


async def test_new_tx_from_the_holder_replaces_its_old_one(connect: Connect) -> None:
    """The speaker starting a new tx (its stop lost) keeps the floor under the new tx."""
    alice, bob = await connect("alice"), await connect("bob")
    await alice.ok("pttStart", {"tx_id": "a1"})
    assert (await alice.ok("pttStart", {"tx_id": "a2"}))["granted"] is True
    await bob.note(protocol.SPEAKER_CHANGED, tx_id="a2")
    assert await alice.ok("pttStop", {"tx_id": "a1"}) == {"released": False}
    assert await alice.ok("pttStop", {"tx_id": "a2"}) == {"released": True}


async def test_floor_released_when_socket_drops_and_regained_by_replay(
    connect: Connect,
) -> None:
    """The floor frees as soon as the speaker's socket drops (session kept); the replayed
    start after resuming is granted again."""
    alice, bob = await connect("alice"), await connect("bob")
    await alice.ok("pttStart", {"tx_id": "a1"})
    await alice.ws.close()
    assert await bob.note(protocol.SPEAKER_CHANGED, peer_id=None, within=0.25)
    assert bob.find(protocol.PEER_LEFT) is None
    again = await connect("alice", session_id=alice.joined["session_id"])
    assert again.joined["resumed"] is True
    assert again.joined["speaker"] is None
    assert (await again.ok("pttStart", {"tx_id": "a1"}))["granted"] is True
    assert await again.ok("pttStop", {"tx_id": "a1"}) == {"released": True}


async def test_max_talk_time_revokes(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """Past max_talk_time the speaker gets floorRevoked and everyone hears the floor free."""
    server = await make_server(max_talk_time=0.2)
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    await alice.ok("pttStart", {"tx_id": "a1"})
    revoked = await alice.note(protocol.FLOOR_REVOKED, within=1.0)
    assert revoked == {"tx_id": "a1", "reason": "max_talk_time"}
    await bob.note(protocol.SPEAKER_CHANGED, peer_id=None)
    assert bob.find(protocol.FLOOR_REVOKED) is None
    assert (await alice.ok("pttStart", {"tx_id": "a1"}))["granted"] is False
    assert (await bob.ok("pttStart", {"tx_id": "b1"}))["granted"] is True


async def test_stop_before_max_talk_time_cancels_it(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """A transmission that ends in time is never revoked, and the next one gets a full term."""
    server = await make_server(max_talk_time=0.3)
    alice = await connect("alice", to=server)
    await alice.ok("pttStart", {"tx_id": "a1"})
    await asyncio.sleep(0.2)
    await alice.ok("pttStop", {"tx_id": "a1"})
    await alice.ok("pttStart", {"tx_id": "a2"})
    await asyncio.sleep(0.2)
    assert alice.find(protocol.FLOOR_REVOKED) is None
    await alice.note(protocol.FLOOR_REVOKED, tx_id="a2", within=0.5)


async def test_bad_tx_id(connect: Connect) -> None:
    """tx_id must be a non-empty string."""
    alice = await connect("alice")
    for data in ({}, {"tx_id": ""}, {"tx_id": 5}):
        assert await alice.error("pttStart", data) == protocol.E_BAD_REQUEST
