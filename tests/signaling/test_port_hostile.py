"""A hostile or broken server through the port: bad answers fail their request with
``ProtocolViolation``; bad notifications are counted and dropped; the link keeps working."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.backends.reference import protocol
from fsm.domain import ChannelMessage, FloorLost, Joined
from fsm.errors import ProtocolViolation

PEER = "peer-1"
GOOD_JOIN = {"session_id": "s", "resumed": False, "peer_id": PEER, "members": [PEER]}


async def forged_answer(env: Any, start: Any, data: Any) -> Any:
    """Start a request (id 1 on a fresh link) and have the server answer it with ``data``
    first: the forged answer is queued before the server even reads the request."""
    port, rec = await env.open_port()
    reply = env.Replies()
    start(port, reply)
    env.server.send_raw("alice", json.dumps({"id": 1, "ok": True, "data": data}))
    [result] = await reply.wait()
    await env.until(lambda: port.dropped.get("unknown_id") == 1)  # the real answer, late
    assert port.is_open
    assert rec.kinds() == ["opened"]
    return result


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(42, id="number"),
        pytest.param([GOOD_JOIN], id="list"),
        pytest.param({}, id="no-peer-id"),
        pytest.param({**GOOD_JOIN, "peer_id": 7}, id="int-peer-id"),
        pytest.param({**GOOD_JOIN, "peer_id": ""}, id="empty-peer-id"),
        pytest.param({**GOOD_JOIN, "members": "x"}, id="members-string"),
        pytest.param({**GOOD_JOIN, "members": [["x"]]}, id="members-unhashable"),
        pytest.param({**GOOD_JOIN, "resumed": "yes"}, id="resumed-string"),
        pytest.param({**GOOD_JOIN, "session_id": 5}, id="session-id-int"),
        pytest.param({**GOOD_JOIN, "names": ["a"]}, id="names-list"),
        pytest.param({**GOOD_JOIN, "speaker": {}}, id="speaker-object"),
        pytest.param({**GOOD_JOIN, "producers": [{"peer_id": "x"}]}, id="producer-no-id"),
        pytest.param({**GOOD_JOIN, "producers": ["p1"]}, id="producer-string"),
    ],
)
async def test_malformed_join_answer_is_a_protocol_violation(data: Any, env: Any) -> None:
    result = await forged_answer(env, lambda port, reply: port.join("ops", None, reply), data)
    assert isinstance(result.error, ProtocolViolation), result


async def test_well_formed_forged_join_answer_decodes(env: Any) -> None:
    """The control case: the same path with a valid answer gives a ``Joined``."""
    data = {**GOOD_JOIN, "names": {PEER: "alice"}, "producers": [{"producer_id": "p"}]}
    result = await forged_answer(env, lambda port, reply: port.join("ops", None, reply), data)
    assert isinstance(result.value, Joined)
    assert result.value.sources[0].source_id == "p"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"granted": "yes", "tx_id": "t1"}, id="granted-string"),
        pytest.param({"granted": True}, id="no-tx-id"),
        pytest.param({"granted": True, "tx_id": "other"}, id="another-tx"),
        pytest.param({"granted": False, "tx_id": "t1", "speaker": 3}, id="speaker-int"),
        pytest.param(None, id="null"),
    ],
)
async def test_malformed_floor_answer_is_a_protocol_violation(data: Any, env: Any) -> None:
    result = await forged_answer(env, lambda port, reply: port.request_floor("t1", reply), data)
    assert isinstance(result.error, ProtocolViolation), result


async def note(env: Any, port: Any, method: str, data: Any) -> None:
    """Have the server send a notification, and wait until the port has handled it."""
    frame = {"notification": True, "method": method, "data": data}
    env.server.send_raw("alice", json.dumps(frame))
    reply = env.Replies()
    port.send_message("sync", {}, reply)  # its answer comes after the notification
    await reply.wait()


@pytest.mark.parametrize(
    ("method", "data"),
    [
        (protocol.PEER_JOINED, {"user": "bob"}),
        (protocol.PEER_JOINED, {"peer_id": "p", "user": 5}),
        (protocol.PEER_LEFT, {"peer_id": 9}),
        (protocol.SPEAKER_CHANGED, {"peer_id": 5}),
        (protocol.NEW_PRODUCER, {"peer_id": "bob"}),
        (protocol.PRODUCER_CLOSED, {}),
        (protocol.FLOOR_REVOKED, {"reason": "max_talk_time"}),  # no tx_id: which floor?
        (protocol.FLOOR_REVOKED, {"tx_id": 1, "reason": "stalled"}),
        (protocol.MESSAGE, {"from": "bob", "data": [1]}),
        (protocol.MESSAGE, {"from": 3, "data": {}}),
    ],
)
async def test_malformed_notification_is_counted_and_dropped(
    method: str, data: Any, env: Any
) -> None:
    port, rec = await env.open_port()
    port.join("ops", None, env.Replies())
    await note(env, port, method, data)
    assert port.dropped == {"bad_notification": 1}
    assert rec.kinds() == ["opened"]  # nothing reached the machine
    assert port.is_open


async def test_unknown_notification_is_counted_and_ignored(env: Any) -> None:
    port, rec = await env.open_port()
    port.join("ops", None, env.Replies())
    await note(env, port, "fromTheFuture", {"v": 2})
    assert port.dropped == {"unknown_notification": 1}
    assert rec.kinds() == ["opened"]


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("max_talk_time", FloorLost.MAX_TALK_TIME),
        ("stalled", FloorLost.STALLED_UPLINK),
        ("kicked", FloorLost.PREEMPTED),
        ("from-the-future", FloorLost.RELEASED),
        (None, FloorLost.RELEASED),
    ],
)
async def test_floor_revoked_reasons(reason: str | None, why: FloorLost, env: Any) -> None:
    port, rec = await env.open_port()
    port.join("ops", None, env.Replies())
    await note(env, port, protocol.FLOOR_REVOKED, {"tx_id": "t1", "reason": reason})
    assert rec.of("floor_lost") == [("t1", why)]


async def test_message_keeps_its_data_and_id_apart(env: Any) -> None:
    port, rec = await env.open_port()
    port.join("ops", None, env.Replies())
    data = {"from": "bob", "data": {"msg_id": "b-1", "text": "hi"}}
    await note(env, port, protocol.MESSAGE, data)
    assert rec.of("message") == [ChannelMessage({"text": "hi"}, "bob", "b-1")]


async def test_raising_events_callbacks_do_not_break_the_port(env: Any) -> None:
    port = env.port()
    calls: list[str] = []

    class Raising(env.PortRecorder):  # type: ignore[misc,name-defined]
        def member_joined(self, member: Any) -> None:
            calls.append(member.peer_id)
            raise RuntimeError("bug in member_joined")

    rec = Raising()
    port.open(env.url, env.token(), rec)
    await rec.first("opened")
    port.join("ops", None, env.Replies())
    for peer in ("p1", "p2"):
        await note(env, port, protocol.PEER_JOINED, {"peer_id": peer, "user": peer})
    assert calls == ["p1", "p2"]  # the first raise did not stop the reader
    assert port.is_open
    assert port.dropped == {}
