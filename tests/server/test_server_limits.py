"""Abuse limits and hostile input: every bad frame gets an answer or a close, nothing more."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.limits import Admission, RateLimiter
from adapters.server.testing import RawClient

Connect = Callable[..., Awaitable[RawClient]]

BAD, UNKNOWN = protocol.E_BAD_REQUEST, protocol.E_UNKNOWN_METHOD


@pytest.mark.parametrize(
    ("frame", "rid", "code"),
    [
        ("not json", None, BAD),
        ("[1, 2]", None, BAD),
        ('"text"', None, BAD),
        ("NaN", None, BAD),
        ("[" * 40_000, None, BAD),
        ('{"id": 1' + "0" * 5000 + "}", None, BAD),
        ('{"method": "ping", "data": {}}', None, BAD),
        ('{"id": true, "method": "ping", "data": {}}', None, BAD),
        ('{"id": [1], "method": "ping", "data": {}}', None, BAD),
        ('{"id": 5, "data": {}}', 5, BAD),
        ('{"id": 6, "method": 7, "data": {}}', 6, BAD),
        ('{"id": 7, "method": "ping"}', 7, BAD),
        ('{"id": "s", "method": "ping", "data": []}', "s", BAD),
        ('{"id": 9, "method": "nope", "data": {}}', 9, UNKNOWN),
        ('{"id": 10, "method": "join", "data": {"channel": 5}}', 10, BAD),
        ('{"id": 11, "method": "join", "data": {"channel": "ops", "session_id": 1}}', 11, BAD),
        ('{"id": 12, "method": "createWebRtcTransport", "data": {"direction": "up"}}', 12, BAD),
        (b"\x00\x01binary", None, BAD),
    ],
)
async def test_malformed_frame_answered_and_harmless(
    connect: Connect, frame: str | bytes, rid: object, code: str
) -> None:
    """Each malformed frame gets one error response (id null without a usable id); the
    sender and the other members carry on."""
    bystander = await connect("bob")
    hostile = await connect("mallory")
    await hostile.ws.send(frame)
    await hostile.wait_for(lambda: bool(hostile.unaddressed))
    [answer] = hostile.unaddressed  # raw frames are not awaited by id, so land here
    assert answer["id"] == rid
    assert answer["ok"] is False
    assert answer["error"]["code"] == code
    assert await hostile.ok("ping")
    await hostile.ok("message", {"still": "here"})
    assert await bystander.note("message")
    assert await bystander.ok("ping")


def test_rate_limiter_refuses_then_disconnects() -> None:
    """Past the burst requests are refused; refusals beyond max_strikes disconnect; time heals."""
    now = [0.0]
    limiter = RateLimiter(2, burst=2, max_strikes=3, clock=lambda: now[0])
    assert [limiter.admit() for _ in range(2)] == [Admission.ACCEPT] * 2
    assert [limiter.admit() for _ in range(3)] == [Admission.REFUSE] * 3
    assert limiter.admit() is Admission.DISCONNECT
    now[0] += 10.0
    assert limiter.admit() is Admission.ACCEPT
    assert [limiter.admit() for _ in range(2)] == [Admission.ACCEPT, Admission.REFUSE]


async def _flood(client: RawClient, count: int) -> None:
    for i in range(count):
        await client.ws.send(json.dumps({"id": 1000 + i, "method": "ping", "data": {}}))


async def test_burst_is_refused_with_rate_limited(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """Requests over the rate get ``rate_limited`` answers (with their ids); the link stays."""
    server = await make_server(max_rps=5)
    client = await connect("alice", to=server, join=False)
    await _flood(client, 8)
    await client.wait_for(lambda: len(client.unaddressed) == 8)
    codes = [r["error"]["code"] for r in client.unaddressed if not r["ok"]]
    assert codes == [protocol.E_RATE_LIMITED] * 3
    assert [r["id"] for r in client.unaddressed] == list(range(1000, 1008))
    await asyncio.sleep(0.25)  # one token back at 5 per second
    assert await client.ok("ping")


async def test_sustained_flood_closes_4029(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """A client that keeps flooding is disconnected with CLOSE_RATE_LIMITED; others are not."""
    server = await make_server(max_rps=5)
    bystander = await connect("bob", to=server)
    client = await connect("alice", to=server)
    await _flood(client, 30)
    assert await client.closed() == protocol.CLOSE_RATE_LIMITED
    assert await bystander.ok("ping")


async def test_oversize_frame_closes_1009(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect
) -> None:
    """A frame over max_message_size closes that link with 1009 and nothing else."""
    server = await make_server(max_message_size=1024)
    bystander = await connect("bob", to=server)
    client = await connect("alice", to=server)
    await client.ok("message", {"fits": "x" * 900})
    await client.ws.send(json.dumps({"id": 1, "method": "message", "data": {"x": "y" * 2000}}))
    assert await client.closed() == protocol.CLOSE_TOO_BIG
    assert await bystander.ok("ping")
    assert [m["data"] for m in bystander.notes if m["method"] == "message"] == [
        {"from": client.joined["peer_id"], "data": {"fits": "x" * 900}, "seq": 1}
    ]
