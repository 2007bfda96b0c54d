"""The floor through ``ReferenceSignaling``: grant, deny, release, revoke, speaker events."""

from __future__ import annotations

from typing import Any

from adapters.backends.reference import protocol
from fsm.domain import FloorAnswer, FloorLost, Joined
from fsm.errors import Cause, RequestFailed


async def joined(env: Any, user: str) -> tuple[Any, Any, Joined]:
    port, rec = await env.open_port(user)
    reply = env.Replies()
    port.join("ops", None, reply)
    [result] = await reply.wait()
    assert isinstance(result.value, Joined), result
    return port, rec, result.value


async def ask(env: Any, port: Any, tx_id: str) -> Any:
    reply = env.Replies()
    port.request_floor(tx_id, reply)
    assert reply.results == []
    [result] = await reply.wait()
    return result


async def test_grant_deny_release(env: Any) -> None:
    alice, alice_rec, a = await joined(env, "alice")
    bob, bob_rec, b = await joined(env, "bob")

    granted = await ask(env, alice, "a-1")
    assert granted.value == FloorAnswer("a-1", True, a.peer_id)
    await bob_rec.until(lambda: bob_rec.of("speaker_changed") == [a.peer_id])

    denied = await ask(env, bob, "b-1")  # a deny is an answer, not an error
    assert denied.value == FloorAnswer("b-1", False, a.peer_id)

    alice.release_floor("a-1")
    await bob_rec.until(lambda: bob_rec.of("speaker_changed") == [a.peer_id, None])
    await alice_rec.until(lambda: alice_rec.of("speaker_changed") == [a.peer_id, None])
    assert env.server.stats.requests["alice"][-1].data == {"tx_id": "a-1"}
    assert (await ask(env, bob, "b-2")).value == FloorAnswer("b-2", True, b.peer_id)
    assert alice_rec.of("floor_lost") == []  # a release of our own is no loss report


async def test_max_talk_time_reports_floor_lost(make_env: Any) -> None:
    env = await make_env(max_talk_time=0.3)
    alice, rec, a = await joined(env, "alice")
    assert (await ask(env, alice, "a-1")).value.granted
    await rec.until(lambda: bool(rec.of("floor_lost")))
    assert rec.of("floor_lost") == [("a-1", FloorLost.MAX_TALK_TIME)]
    await rec.until(lambda: rec.of("speaker_changed") == [a.peer_id, None])


async def test_floor_request_before_join_is_request_failed(env: Any) -> None:
    port, _ = await env.open_port()
    result = await ask(env, port, "t-1")
    assert isinstance(result.error, RequestFailed)
    assert (result.error.cause, result.error.code) == (Cause.TRANSIENT, protocol.E_NOT_JOINED)
    assert result.error.operation == protocol.PTT_START
    assert port.is_open
