"""Hostile frames from the server: dropped and counted, the link keeps working."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.backends.reference import protocol
from fsm.classify import DEFAULT_TABLE, Verdict
from fsm.errors import ProtocolViolation

NOTE = {"notification": True, "method": protocol.PEER_JOINED, "data": {"peer_id": "p"}}


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        pytest.param("{not json", "invalid_json", id="invalid-json"),
        pytest.param("[" * 50_000 + "]" * 50_000, "invalid_json", id="nested-too-deep"),
        pytest.param("[1, 2, 3]", "not_an_object", id="array"),
        pytest.param("42", "not_an_object", id="number"),
        pytest.param('"text"', "not_an_object", id="string"),
        pytest.param("null", "not_an_object", id="null"),
        pytest.param(b"\x00\x01binary", "binary_frame", id="binary"),
        pytest.param(
            json.dumps({"id": 9999, "ok": True, "data": {}}), "unknown_id", id="unknown-id"
        ),
        pytest.param(json.dumps({"id": True, "ok": True, "data": {}}), "unknown_id", id="bool-id"),
        pytest.param(
            json.dumps({"id": 9998, "ok": "yes", "data": {}}), "bad_response", id="ok-wrong-type"
        ),
        pytest.param(json.dumps({"ok": True, "data": {}}), "unknown_id", id="no-id"),
        pytest.param(
            json.dumps({"id": None, "ok": False, "error": {"code": "bad_request"}}),
            "unknown_id",
            id="null-id-error",
        ),
        pytest.param(json.dumps({"id": 9997}), "bad_response", id="no-ok"),
        pytest.param(
            json.dumps({**NOTE, "data": [1, 2]}), "bad_notification", id="notification-list-data"
        ),
        pytest.param(
            json.dumps({**NOTE, "data": "x"}), "bad_notification", id="notification-str-data"
        ),
        pytest.param(
            json.dumps({**NOTE, "method": 7}), "bad_notification", id="notification-int-method"
        ),
    ],
)
async def test_malformed_frame_is_dropped_and_counted(
    frame: str | bytes, why: str, env: Any
) -> None:
    sig, rec = await env.open(join=True)
    server = env.server
    assert sig.dropped == {}
    assert server.send_raw("alice", frame) == 1
    # The server's answer to this ping is queued behind the raw frame, so once it is
    # back the frame has been handled.
    assert (await sig.call(protocol.PING, {}))["t"] > 0
    assert sig.dropped == {why: 1}
    assert sig.is_open
    assert rec.kinds() == ["opened"]  # no notification, no loss
    assert (await sig.call(protocol.PING, {}))["t"] > 0


async def test_unknown_notification_method_is_still_delivered(env: Any) -> None:
    sig, rec = await env.open(join=True)
    server = env.server
    frame = json.dumps({"notification": True, "method": "fromTheFuture", "data": {"v": 2}})
    server.send_raw("alice", frame)
    server.send_raw("alice", json.dumps({"notification": True, "method": "noData"}))
    await sig.call(protocol.PING, {})
    assert rec.of("notification") == [("fromTheFuture", {"v": 2}), ("noData", {})]
    assert sig.dropped == {}


async def test_malformed_response_to_a_pending_request_fails_it_once(env: Any) -> None:
    sig, rec = await env.open(join=True)  # request id 1 was the join
    server = env.server
    reply = env.Replies()
    sig.request(protocol.PING, {}, reply)  # id 2
    # Queued on the server before the real answer to id 2 can be.
    server.send_raw("alice", json.dumps({"id": 2, "ok": "yes", "data": {}}))
    [result] = await reply.wait()
    assert isinstance(result.error, ProtocolViolation)
    assert DEFAULT_TABLE.verdict(result.error) is Verdict.RETRY
    await sig.call(protocol.PING, {})  # id 3; by now the real answer to id 2 came too
    assert len(reply.results) == 1
    assert sig.dropped == {"bad_response": 1, "unknown_id": 1}
    assert rec.kinds() == ["opened"]


async def test_bool_id_never_matches_request_1(env: Any) -> None:
    sig, _ = await env.open()
    reply = env.Replies()
    sig.request(protocol.PING, {}, reply)  # id 1; true == 1 in Python
    env.server.send_raw("alice", json.dumps({"id": True, "ok": True, "data": {"fake": 1}}))
    [result] = await reply.wait()
    assert "t" in result.value  # the real answer, not the forged one
    assert sig.dropped == {"unknown_id": 1}


async def test_error_response_with_malformed_error_is_still_a_failure(env: Any) -> None:
    sig, _ = await env.open(join=True)
    reply = env.Replies()
    sig.request(protocol.PING, {}, reply)  # id 2
    env.server.send_raw("alice", json.dumps({"id": 2, "ok": False, "error": "boom"}))
    [result] = await reply.wait()
    assert result.error is not None
    assert result.error.code == "unknown"


async def test_oversize_frame_ends_the_link_as_retryable_1009(env: Any) -> None:
    sig, rec = await env.open(join=True, max_size=4096)
    server = env.server
    big = json.dumps({"notification": True, "method": "blob", "data": {"x": "a" * 8192}})
    assert server.send_raw("alice", big) == 1
    kind, error = await rec.ended()
    assert kind == "lost"
    assert error.code == protocol.CLOSE_TOO_BIG
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY
    assert rec.notes("blob") == []
    await rec.quiet(0.1)
    assert rec.kinds() == ["opened", "lost"]
    assert not sig.is_open
    await env.settle(sig)


async def test_frame_of_exactly_max_size_is_accepted(env: Any) -> None:
    sig, rec = await env.open(join=True, max_size=4096)
    server = env.server
    payload = {"notification": True, "method": "blob", "data": {"x": ""}}
    payload["data"]["x"] = "a" * (4096 - len(json.dumps(payload)))  # type: ignore[index]
    frame = json.dumps(payload)
    assert len(frame) == 4096
    server.send_raw("alice", frame)
    await sig.call(protocol.PING, {})
    assert len(rec.notes("blob")) == 1
    assert sig.is_open
