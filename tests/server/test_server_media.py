"""The media seam: requests go to the MediaRouter, producers are tracked per channel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.backends.reference import protocol
from adapters.server import MediaError, PttServer
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]
MakeServer = Callable[..., Awaitable[PttServer]]

OFFER = {"sdp": "v=0 offer", "type": "offer"}


class FakeRouter:
    """Records every call; transport ids steer failures ("refuse", "crash", "slow", "junk")."""

    def __init__(self, close_delay: float = 0.0) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.floor: list[tuple[str, str | None]] = []
        self.closed: list[str] = []
        self.channels: list[tuple[str, str | None]] = []
        self.close_delay = close_delay

    def capabilities(self) -> dict[str, Any]:
        return {"codecs": [{"mimeType": "audio/opus"}]}

    async def _misbehave(self, transport_id: str) -> None:
        if transport_id == "refuse":
            raise MediaError(protocol.E_NOT_FOUND, "no such transport")
        if transport_id == "crash":
            raise RuntimeError("router bug")
        if transport_id == "slow":
            await asyncio.sleep(10)

    async def create_transport(self, peer_id: str, direction: str) -> dict[str, Any]:
        self.calls.append(("create_transport", (peer_id, direction)))
        return {"transport_id": f"{direction}-{peer_id}"}

    async def connect_transport(
        self, peer_id: str, transport_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        await self._misbehave(transport_id)
        if transport_id == "junk":
            return {"sdp": 5}
        return {"sdp": "v=0 answer", "type": "answer"}

    async def produce(self, peer_id: str, transport_id: str, kind: str) -> dict[str, Any]:
        await self._misbehave(transport_id)
        return {"producer_id": f"prod-{peer_id}"}

    async def consume(
        self, peer_id: str, transport_id: str, producer_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        self.calls.append(("consume", (peer_id, producer_id)))
        return {"consumer_id": f"cons-{peer_id}", "sdp": "v=0 answer", "type": "answer"}

    async def close_consumer(self, peer_id: str, consumer_id: str) -> None:
        self.calls.append(("close_consumer", (peer_id, consumer_id)))

    def floor_changed(self, channel: str, peer_id: str | None) -> None:
        self.floor.append((channel, peer_id))

    def join_channel(self, peer_id: str, channel: str | None) -> None:
        self.channels.append((peer_id, channel))

    async def close_peer(self, peer_id: str) -> None:
        await asyncio.sleep(self.close_delay)
        self.closed.append(peer_id)


@pytest.fixture
async def router_server(make_server: MakeServer) -> tuple[PttServer, FakeRouter]:
    router = FakeRouter()
    return await make_server(media=router), router


async def test_no_media_refuses_media_requests(connect: Connect) -> None:
    """The default NoMedia serves empty capabilities and answers not_found to the rest."""
    client = await connect("alice")
    assert await client.ok("getRouterRtpCapabilities") == {"codecs": []}
    for method, data in [
        ("createWebRtcTransport", {"direction": "send"}),
        ("connectWebRtcTransport", {"transport_id": "t", **OFFER}),
        ("produce", {"transport_id": "t", "kind": "audio"}),
        ("closeConsumer", {"consumer_id": "c"}),
    ]:
        response = await client.send(method, data)
        assert response["error"] == {"code": "not_found", "message": "media not supported"}


async def test_producers_announced_listed_and_consumed(
    router_server: tuple[PttServer, FakeRouter], connect: Connect
) -> None:
    """produce → newProducer to the others and JoinResult.producers for later joiners."""
    server, _ = router_server
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    a = alice.joined["peer_id"]
    send = await alice.ok("createWebRtcTransport", {"direction": "send"})
    assert send == {"transport_id": f"send-{a}"}
    assert await alice.ok("connectWebRtcTransport", {"transport_id": send["transport_id"], **OFFER})
    produced = await alice.ok("produce", {"transport_id": send["transport_id"], "kind": "audio"})
    assert produced == {"producer_id": f"prod-{a}"}
    assert await bob.note(protocol.NEW_PRODUCER) == {"producer_id": f"prod-{a}", "peer_id": a}
    assert alice.find(protocol.NEW_PRODUCER) is None

    carol = await connect("carol", to=server)
    assert carol.joined["producers"] == [{"producer_id": f"prod-{a}", "peer_id": a}]
    consumed = await carol.ok(
        "consume", {"transport_id": "recv", "producer_id": f"prod-{a}", **OFFER}
    )
    assert consumed["consumer_id"] == f"cons-{carol.joined['peer_id']}"
    assert await carol.ok("closeConsumer", {"consumer_id": consumed["consumer_id"]}) == {}
    assert (
        await carol.error("consume", {"transport_id": "r", "producer_id": "ghost", **OFFER})
        == protocol.E_NOT_FOUND
    )
    assert (
        await alice.error("consume", {"transport_id": "r", "producer_id": f"prod-{a}", **OFFER})
        == protocol.E_BAD_REQUEST
    )

    resumed = await connect("alice", to=server, session_id=alice.joined["session_id"])
    assert resumed.joined["producers"] == []  # its own producer is not listed to itself


async def test_producers_closed_when_session_ends(
    router_server: tuple[PttServer, FakeRouter], connect: Connect
) -> None:
    """Grace expiry and leave both announce producerClosed before peerLeft and free media."""
    server, router = router_server
    alice, bob, carol = [await connect(u, to=server) for u in ("alice", "bob", "carol")]
    for client in (alice, bob):
        await client.ok("produce", {"transport_id": "t", "kind": "audio"})
    a, b = alice.joined["peer_id"], bob.joined["peer_id"]
    await alice.ws.close()
    await carol.note(protocol.PEER_LEFT, peer_id=a, within=1.0)
    await bob.ok("leave", {"channel": "ops"})
    await carol.note(protocol.PEER_LEFT, peer_id=b)
    endings = [n["method"] for n in carol.notes if n["data"].get("peer_id") in (a, b)]
    assert endings[-4:] == [
        protocol.PRODUCER_CLOSED,
        protocol.PEER_LEFT,
        protocol.PRODUCER_CLOSED,
        protocol.PEER_LEFT,
    ]
    await carol.ok("ping")
    assert sorted(router.closed) == sorted([a, b])
    late = await connect("dave", to=server)
    assert late.joined["producers"] == []


async def test_router_failures_become_error_responses(
    make_server: MakeServer, connect: Connect
) -> None:
    """MediaError keeps its code; a crash, a hang or a junk answer become ``internal``."""
    server = await make_server(media=FakeRouter(), media_timeout=0.2)
    client = await connect("alice", to=server)
    cases = {"refuse": protocol.E_NOT_FOUND, "crash": "internal", "slow": "internal"}
    for transport_id, code in {**cases, "junk": "internal"}.items():
        data = {"transport_id": transport_id, **OFFER}
        assert await client.error("connectWebRtcTransport", data) == code, transport_id
    assert await client.error("produce", {"transport_id": "t", "kind": "video"}) == "bad_request"
    assert await client.ok("ping")


async def test_router_told_about_floor(
    router_server: tuple[PttServer, FakeRouter], connect: Connect
) -> None:
    """The router hears every floor change, so it forwards only the speaker's audio."""
    server, router = router_server
    alice = await connect("alice", to=server)
    await alice.ok("pttStart", {"tx_id": "a1"})
    await alice.ok("pttStop", {"tx_id": "a1"})
    assert router.floor == [("ops", alice.joined["peer_id"]), ("ops", None)]


async def test_router_lost_producer_announced(
    router_server: tuple[PttServer, FakeRouter], connect: Connect
) -> None:
    """producer_closed from the router reaches the others once; unknown pairs do nothing."""
    server, _ = router_server
    alice, bob = await connect("alice", to=server), await connect("bob", to=server)
    a = alice.joined["peer_id"]
    await alice.ok("produce", {"transport_id": "t", "kind": "audio"})
    assert server.producer_closed(bob.joined["peer_id"], f"prod-{a}") is False
    assert server.producer_closed(a, f"prod-{a}") is True
    assert server.producer_closed(a, f"prod-{a}") is False
    assert await bob.note(protocol.PRODUCER_CLOSED) == {"producer_id": f"prod-{a}", "peer_id": a}
    await bob.ok("ping")
    assert bob.methods().count(protocol.PRODUCER_CLOSED) == 1
    assert (await connect("carol", to=server)).joined["producers"] == []


async def test_channel_aware_router_hears_membership(
    router_server: tuple[PttServer, FakeRouter], connect: Connect
) -> None:
    """A router with join_channel learns each peer's channel on join and None at the end."""
    server, router = router_server
    alice = await connect("alice", to=server)
    a = alice.joined["peer_id"]
    await connect("alice", to=server, session_id=alice.joined["session_id"])  # resume: no news
    assert router.channels == [(a, "ops")]
    assert await server.kick("alice") == 1
    assert router.channels == [(a, "ops"), (a, None)]


async def test_slow_media_cleanup_cancelled_at_close(
    make_server: MakeServer, connect: Connect
) -> None:
    """Shutdown waits briefly for media cleanup, then cancels it: no task is left behind."""
    before = asyncio.all_tasks()
    router = FakeRouter(close_delay=30)
    server = await make_server(media=router, max_talk_time=30)
    alice = await connect("alice", to=server)
    await alice.ok("pttStart", {"tx_id": "a1"})
    in_grace = await connect("bob", to=server)
    await in_grace.ws.close()
    await server.close()
    await alice.aclose()
    assert asyncio.all_tasks() - before == set()
    assert router.closed == []
