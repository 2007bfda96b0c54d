"""Open, join, members and leave against a real Janus AudioBridge."""

from __future__ import annotations

from fsm.domain import Member
from fsm.errors import Cause, ConfigError, RequestFailed, UsageError

from .conftest import MakeClient, call, joined_client


async def test_join_lists_members_and_announces_newcomers(make_client: MakeClient) -> None:
    """B's join answer lists A and B; A hears that B joined, and that B left."""
    a = await joined_client(make_client, display="alice")
    assert a.joined is not None
    assert not a.joined.resumed
    assert [m.peer_id for m in a.joined.members] == [a.peer_id]
    assert a.joined.resume_id is not None
    assert a.joined.resume_id.startswith("janus:")
    assert [s.source_id for s in a.joined.sources] == ["mix"]

    b = await joined_client(make_client, display="bob")
    assert b.joined is not None
    assert {m.peer_id for m in b.joined.members} == {a.peer_id, b.peer_id}
    assert Member(a.peer_id, "alice") in b.joined.members
    _, member = await a.events.wait_for(lambda k, _: k == "member_joined")
    assert member == Member(b.peer_id, "bob")

    b.signaling.leave()
    b.signaling.close()
    _, gone = await a.events.wait_for(lambda k, _: k == "member_left")
    assert gone == b.peer_id
    assert "member_joined" not in b.events.kinds()  # never announces ourselves


async def test_a_room_that_does_not_exist_is_channel_gone(make_client: MakeClient) -> None:
    """Janus's 485 (no such room) becomes Cause.CHANNEL_GONE."""
    client = await make_client()
    assert await client.open() == "opened"
    result = await call(lambda r: client.signaling.join("999", None, r))
    assert isinstance(result.error, RequestFailed)
    assert result.error.cause is Cause.CHANNEL_GONE
    assert result.error.code == 485


async def test_a_channel_must_be_a_room_number(make_client: MakeClient) -> None:
    client = await make_client()
    assert await client.open() == "opened"
    result = await call(lambda r: client.signaling.join("lobby", None, r))
    assert isinstance(result.error, ConfigError)


async def test_messages_are_not_supported(make_client: MakeClient) -> None:
    """AudioBridge has no chat: a typed UsageError, and the feature says so."""
    client = await joined_client(make_client)
    result = await call(lambda r: client.signaling.send_message("m1", {"x": 1}, r))
    assert isinstance(result.error, UsageError)
