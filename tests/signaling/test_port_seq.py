"""``ReferenceSignaling`` and delivery numbers: a resuming join says the last ``seq`` it
delivered, and a replayed message it already delivered never reaches the machine."""

from __future__ import annotations

import json
from typing import Any

from adapters.backends.reference import protocol
from adapters.server.testing import RawClient
from fsm.domain import Joined


async def join(env: Any, port: Any, resume_id: str | None = None) -> Joined:
    reply = env.Replies()
    port.join("ops", resume_id, reply)
    [result] = await reply.wait()
    assert result.error is None, result.error
    joined: Joined = result.value
    return joined


async def _bob(env: Any) -> RawClient:
    """Bob, straight to the server: the proxy's faults are alice's."""
    bob = await RawClient.open(env.server.url, {"Authorization": f"Bearer {env.token('bob')}"})
    await bob.join("ops")
    return bob


def _texts(rec: Any) -> list[Any]:
    return [m.data["n"] for m in rec.of("message")]


async def test_a_resume_says_the_last_seq_and_each_message_arrives_once(make_env: Any) -> None:
    """Three messages delivered, the link reset: the resuming join carries last_seq 3 and
    the next message is the only one delivered on the new link."""
    env = await make_env(grace=5.0)
    port, rec = await env.open_port()
    first = await join(env, port)
    bob = await _bob(env)
    try:
        for n in range(3):
            await bob.ok(protocol.MESSAGE, {"msg_id": f"b{n}", "n": n})
        await rec.until(lambda: len(rec.of("message")) == 3)
        env.proxy.reset_now()
        await rec.ended()

        again = env.PortRecorder()
        port.open(env.url, env.token(), again)
        await again.first("opened")
        assert (await join(env, port, first.resume_id)).resumed is True
        assert env.server.stats.requests["alice"][-1].data[protocol.LAST_SEQ] == 3
        await bob.ok(protocol.MESSAGE, {"msg_id": "b3", "n": 3})
        await again.until(lambda: bool(again.of("message")))
        await again.quiet(0.2)
        assert (_texts(rec), _texts(again)) == ([0, 1, 2], [3])
        assert port.dropped == {}
    finally:
        await bob.aclose()


async def test_a_replayed_duplicate_is_dropped_and_counted(env: Any) -> None:
    """A message whose seq was delivered already is counted, not delivered again."""
    port, rec = await env.open_port()
    await join(env, port)
    bob = await _bob(env)
    try:
        await bob.ok(protocol.MESSAGE, {"msg_id": "b0", "n": 0})
        await rec.until(lambda: len(rec.of("message")) == 1)
        repeat = {"from": "p-bob", "seq": 1, "data": {"msg_id": "b0", "n": 0}}
        frame = {"notification": True, "method": protocol.MESSAGE, "data": repeat}
        env.server.send_raw("alice", json.dumps(frame))
        await env.until(lambda: port.dropped.get("replayed_duplicate") == 1)
        await rec.quiet(0.1)
        assert _texts(rec) == [0]
    finally:
        await bob.aclose()


async def test_a_fresh_session_counts_from_one_again(env: Any) -> None:
    """After a fresh (not resumed) join the new session's seq 1 is delivered, and a join
    naming a session this port did not count says no last_seq."""
    port, rec = await env.open_port()
    first = await join(env, port)
    bob = await _bob(env)
    try:
        await bob.ok(protocol.MESSAGE, {"msg_id": "b0", "n": 0})
        await rec.until(lambda: len(rec.of("message")) == 1)
        env.proxy.reset_now()  # no grace period: the session ends with the link
        await rec.ended()

        again = env.PortRecorder()
        port.open(env.url, env.token(), again)
        await again.first("opened")
        assert (await join(env, port, first.resume_id)).resumed is False
        await bob.ok(protocol.MESSAGE, {"msg_id": "b1", "n": 1})
        await again.until(lambda: bool(again.of("message")))
        assert _texts(again) == [1]

        port.leave()
        await join(env, port, "someone-elses-session")
        assert protocol.LAST_SEQ not in env.server.stats.requests["alice"][-1].data
    finally:
        await bob.aclose()
