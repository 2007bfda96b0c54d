"""A healthy session: open, the bearer header, requests both ways, notifications."""

from __future__ import annotations

from typing import Any

from adapters.backends.reference import protocol
from adapters.server.testing import RawClient
from fsm.ports import Result


async def test_open_reports_opened_once_and_sends_token_only_in_header(env: Any) -> None:
    sig, rec = env.link(), env.Recorder()
    secret_token = env.token("alice")
    sig.open(env.url, secret_token, rec)
    assert rec.events == []  # nothing reported synchronously from inside open()
    assert not sig.is_open
    await rec.first("opened")
    assert sig.is_open
    assert env.server.stats.handshakes["ok"] == 1
    assert env.server.links("alice") == 1
    [seen] = env.handshakes
    assert seen.headers["authorization"] == [f"Bearer {secret_token}"]
    assert seen.path == env.server.path  # no query string at all, so no token in the URL
    assert seen.headers["sec-websocket-protocol"] == [protocol.SUBPROTOCOL]
    elsewhere = [v for k, vs in seen.headers.items() if k != "authorization" for v in vs]
    assert not any(secret_token in value for value in elsewhere)
    await rec.quiet(0.1)
    assert rec.kinds() == ["opened"]


async def test_channel_option_is_sent_as_header(env: Any) -> None:
    await env.open(channel="ops")
    assert env.handshakes[-1].headers["x-ptt-channel"] == ["ops"]
    await env.open("bob")
    assert "x-ptt-channel" not in env.handshakes[-1].headers


async def test_join_round_trip_through_call(env: Any) -> None:
    sig, _ = await env.open()
    joined = await sig.call(protocol.JOIN, {"channel": "ops"})
    assert joined["resumed"] is False
    assert isinstance(joined["session_id"], str)
    assert joined["members"] == [joined["peer_id"]]
    assert env.server.stats.methods("alice") == [protocol.JOIN]
    pong = await sig.call(protocol.PING, {})
    assert isinstance(pong["t"], float)


async def test_join_round_trip_through_request_with_reply(env: Any) -> None:
    sig, _ = await env.open()
    reply = env.Replies()
    sig.request(protocol.JOIN, {"channel": "ops"}, reply)
    assert reply.results == []  # never synchronously
    [result] = await reply.wait()
    assert isinstance(result, Result)
    assert result.error is None
    assert result.value["members"] == [result.value["peer_id"]]
    assert env.server.stats.requests["alice"][0].data == {"channel": "ops"}


async def test_concurrent_requests_each_reach_their_own_reply(env: Any) -> None:
    sig, _ = await env.open(join=True)
    first, second, third = env.Replies(), env.Replies(), env.Replies()
    sig.request(protocol.PING, {}, first)
    sig.request("noSuchMethod", {}, second)
    sig.request(protocol.MESSAGE, {"text": "hi"}, third)
    for reply in (first, second, third):
        await reply.wait()
    assert "t" in first.results[0].value
    assert second.results[0].error.code == protocol.E_UNKNOWN_METHOD
    assert third.results[0].error is None
    assert [len(r.results) for r in (first, second, third)] == [1, 1, 1]


async def test_peer_notifications_reach_events(env: Any) -> None:
    sig, rec = await env.open(join=True)
    bob = await RawClient.open(env.url, {"Authorization": f"Bearer {env.token('bob')}"})
    try:
        joined = await bob.join("ops")
        await rec.until(lambda: bool(rec.notes(protocol.PEER_JOINED)))
        assert rec.notes(protocol.PEER_JOINED) == [{"peer_id": joined["peer_id"], "user": "bob"}]
        await bob.ok(protocol.MESSAGE, {"text": "over"})
        await rec.until(lambda: bool(rec.notes(protocol.MESSAGE)))
        expected = {"from": joined["peer_id"], "data": {"text": "over"}, "seq": 1}
        assert rec.notes(protocol.MESSAGE) == [expected]
    finally:
        await bob.aclose()
    await rec.until(lambda: bool(rec.notes(protocol.PEER_LEFT)))
    assert "lost" not in rec.kinds()
    assert sig.is_open
