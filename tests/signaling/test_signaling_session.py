"""A healthy session: open, the bearer header, requests both ways, notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters import protocol
from adapters.faultproxy import FaultProxy
from adapters.server import PttServer
from adapters.server.testing import RawClient
from fsm.ports import Result


async def test_open_reports_opened_once_and_sends_token_only_in_header(
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    url: str,
    token: Callable[..., str],
    server: PttServer,
    handshakes: list[Any],
) -> None:
    sig = make_signaling()
    rec = recorder()
    secret_token = token("alice")
    sig.open(url, secret_token, rec)
    assert rec.events == []  # nothing reported synchronously from inside open()
    assert not sig.is_open
    await rec.first("opened")
    assert sig.is_open
    assert server.stats.handshakes["ok"] == 1
    assert server.links("alice") == 1
    [seen] = handshakes
    assert seen.headers["authorization"] == [f"Bearer {secret_token}"]
    assert secret_token not in seen.path
    assert seen.path == server.path  # no query string at all
    assert "ptt.v1" in seen.headers["sec-websocket-protocol"][0]
    assert all(secret_token not in v for k, vs in seen.headers.items() if k != "authorization"
               for v in vs)
    await rec.quiet(0.1)
    assert rec.kinds() == ["opened"]


async def test_channel_option_is_sent_as_header(
    open_link: Any, handshakes: list[Any]
) -> None:
    await open_link(channel="ops")
    assert handshakes[-1].headers["x-ptt-channel"] == ["ops"]


async def test_join_round_trip_through_call(open_link: Any, server: PttServer) -> None:
    sig, _ = await open_link()
    joined = await sig.call(protocol.JOIN, {"channel": "ops"})
    assert joined["resumed"] is False
    assert isinstance(joined["session_id"], str) and joined["session_id"]
    assert joined["members"] == [joined["peer_id"]]
    assert server.stats.methods("alice") == [protocol.JOIN]
    pong = await sig.call(protocol.PING, {})
    assert isinstance(pong["t"], float)


async def test_join_round_trip_through_request_with_reply(
    open_link: Any, replies: Callable[[], Any], server: PttServer
) -> None:
    sig, _ = await open_link()
    reply = replies()
    sig.request(protocol.JOIN, {"channel": "ops"}, reply)
    assert reply.results == []  # never synchronously
    [result] = await reply.wait()
    assert isinstance(result, Result)
    assert result.ok and result.error is None
    assert result.value["members"] == [result.value["peer_id"]]
    assert server.stats.requests["alice"][0].data == {"channel": "ops"}


async def test_requests_answered_in_any_order_reach_their_own_reply(
    open_link: Any, replies: Callable[[], Any]
) -> None:
    sig, _ = await open_link(join=True)
    first, second, third = replies(), replies(), replies()
    sig.request(protocol.PING, {}, first)
    sig.request("noSuchMethod", {}, second)
    sig.request(protocol.MESSAGE, {"text": "hi"}, third)
    await first.wait()
    await second.wait()
    await third.wait()
    assert first.results[0].ok and "t" in first.results[0].value
    assert second.results[0].error is not None
    assert second.results[0].error.code == protocol.E_UNKNOWN_METHOD
    assert third.results[0].ok


async def test_peer_joined_notification_reaches_events(
    open_link: Any, url: str, token: Callable[..., str], proxy: FaultProxy
) -> None:
    sig, rec = await open_link(join=True)
    bob = await RawClient.open(url, {"Authorization": f"Bearer {token('bob')}"})
    try:
        joined = await bob.join("ops")
        await rec.until(lambda: bool(rec.notes(protocol.PEER_JOINED)))
        [note] = rec.notes(protocol.PEER_JOINED)
        assert note == {"peer_id": joined["peer_id"], "user": "bob"}
        # and a relayed message arrives as a notification with the payload intact
        await bob.ok(protocol.MESSAGE, {"text": "over"})
        await rec.until(lambda: bool(rec.notes(protocol.MESSAGE)))
        assert rec.notes(protocol.MESSAGE)[0] == {"from": joined["peer_id"], "data": {"text": "over"}}
    finally:
        await bob.aclose()
    await rec.until(lambda: bool(rec.notes(protocol.PEER_LEFT)))
    assert "lost" not in rec.kinds()
    assert sig.is_open
