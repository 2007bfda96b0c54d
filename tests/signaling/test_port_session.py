"""``ReferenceSignaling`` against the real server: join, resume, members, messages, leave."""

from __future__ import annotations

import json
from typing import Any

from adapters.backends.reference import protocol
from fsm.domain import AudioSource, ChannelMessage, Joined, Member
from fsm.errors import LinkError


async def join(env: Any, port: Any, resume_id: str | None = None) -> Joined:
    reply = env.Replies()
    port.join("ops", resume_id, reply)
    assert reply.results == []  # never synchronously
    [result] = await reply.wait()
    assert result.error is None, result.error
    assert isinstance(result.value, Joined)
    joined: Joined = result.value
    return joined


async def test_join_decodes_to_joined(env: Any) -> None:
    alice, _ = await env.open_port("alice")
    first = await join(env, alice)
    assert first.resumed is False
    assert first.resume_id
    assert first.resume_id != first.peer_id
    assert first.members == (Member(first.peer_id, "alice"),)
    assert (first.speaker, first.sources) == (None, ())
    assert env.server.stats.requests["alice"][0].data == {"channel": "ops"}  # no session_id

    bob, _ = await env.open_port("bob")
    second = await join(env, bob)
    assert set(second.members) == {Member(first.peer_id, "alice"), Member(second.peer_id, "bob")}


async def test_members_come_and_go(env: Any) -> None:
    alice, rec = await env.open_port("alice")
    await join(env, alice)
    bob, _ = await env.open_port("bob")
    bob_joined = await join(env, bob)
    await rec.until(lambda: bool(rec.of("member_joined")))
    assert rec.of("member_joined") == [Member(bob_joined.peer_id, "bob")]
    bob.leave()
    await rec.until(lambda: bool(rec.of("member_left")))
    assert rec.of("member_left") == [bob_joined.peer_id]
    assert env.server.stats.requests["bob"][-1].data == {"channel": "ops"}
    assert rec.kinds() == ["opened", "member_joined", "member_left"]
    assert alice.dropped == {}


async def test_resume_within_the_grace_period(make_env: Any) -> None:
    env = await make_env(grace=5.0)
    port, rec = await env.open_port()
    first = await join(env, port)
    env.proxy.reset_now()  # the link dies; the server keeps the session for 5 s
    kind, error = await rec.ended()
    assert kind == "lost"
    assert isinstance(error, LinkError)

    again = env.PortRecorder()
    port.open(env.url, env.token(), again)  # the same port object, a fresh link
    await again.first("opened")
    second = await join(env, port, first.resume_id)
    assert second.resumed is True
    assert second.peer_id == first.peer_id
    assert env.server.stats.requests["alice"][-1].data == {
        "channel": "ops",
        "session_id": first.resume_id,
        "last_seq": 0,  # nothing was delivered in that session yet
    }
    await rec.quiet(0.1)
    assert rec.kinds() == ["opened", "lost"]  # the old link's events object hears nothing


async def test_resume_of_an_unknown_session_is_a_fresh_join(env: Any) -> None:
    port, _ = await env.open_port()
    joined = await join(env, port, "no-such-session")
    assert joined.resumed is False
    assert joined.resume_id != "no-such-session"


async def test_message_round_trip_between_two_clients(env: Any) -> None:
    alice, alice_rec = await env.open_port("alice")
    alice_joined = await join(env, alice)
    bob, bob_rec = await env.open_port("bob")
    await join(env, bob)

    sent = env.Replies()
    alice.send_message("alice-1", {"text": "over", "n": 1}, sent)
    [result] = await sent.wait()
    assert (result.value, result.error) == (None, None)
    await bob_rec.until(lambda: bool(bob_rec.of("message")))
    [message] = bob_rec.of("message")
    assert message == ChannelMessage({"text": "over", "n": 1}, alice_joined.peer_id, "alice-1")

    again = env.Replies()  # a resend after an unconfirmed send: the server drops it
    alice.send_message("alice-1", {"text": "over", "n": 1}, again)
    assert (await again.wait())[0].ok
    await bob_rec.quiet(0.2)
    assert len(bob_rec.of("message")) == 1
    assert alice_rec.of("message") == []  # the sender does not get its own message


async def test_sources_follow_new_and_closed_producers(env: Any) -> None:
    port, rec = await env.open_port()
    await join(env, port)

    def note(method: str, **data: Any) -> None:
        frame = {"notification": True, "method": method, "data": data}
        env.server.send_raw("alice", json.dumps(frame))

    note(protocol.NEW_PRODUCER, producer_id="p1", peer_id="bob")
    note(protocol.NEW_PRODUCER, producer_id="p1", peer_id="bob")  # a repeat: no change
    note(protocol.NEW_PRODUCER, producer_id="p2", peer_id="carol")
    note(protocol.PRODUCER_CLOSED, producer_id="p1", peer_id="bob")
    note(protocol.PRODUCER_CLOSED, producer_id="p9", peer_id="bob")  # unknown: no change
    await rec.until(lambda: len(rec.of("sources_changed")) == 3)
    p1, p2 = AudioSource("p1", "bob"), AudioSource("p2", "carol")
    assert rec.of("sources_changed") == [(p1,), (p1, p2), (p2,)]
    assert port.sources() == (p2,)
    await rec.quiet(0.1)


async def test_calls_on_a_closed_port_fail_asynchronously(env: Any) -> None:
    port = env.port()
    replies = env.Replies()
    port.join("ops", None, replies)
    port.request_floor("t1", replies)
    port.send_message("m1", {}, replies)
    port.release_floor("t1")  # fire and forget: nothing to report, nothing raised
    port.leave()
    assert replies.results == []
    results = await replies.wait(3)
    assert all(isinstance(r.error, LinkError) for r in results)
    port.close()
    await env.settle(port, proxy_live=False)
