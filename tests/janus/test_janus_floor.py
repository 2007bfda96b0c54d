"""The client-side floor with two real clients on one AudioBridge room."""

from __future__ import annotations

import asyncio

from fsm.domain import FloorAnswer, FloorLost

from .conftest import MakeClient, joined_client, value


async def test_grant_then_deny_while_the_other_is_unmuted(make_client: MakeClient) -> None:
    """A gets the floor; B is denied with A as speaker until A releases; then B gets it."""
    a = await joined_client(make_client)
    b = await joined_client(make_client)
    answer = await value(lambda r: a.signaling.request_floor("tx-a", r))
    assert answer == FloorAnswer("tx-a", True, speaker=a.peer_id)

    await b.events.wait_for(lambda k, v: k == "speaker_changed" and v == a.peer_id)
    denied = await value(lambda r: b.signaling.request_floor("tx-b", r))
    assert isinstance(denied, FloorAnswer)
    assert not denied.granted
    assert denied.speaker == a.peer_id
    assert denied.reason == "busy"  # denied up front: B never unmuted on the server
    assert ("speaker_changed", b.peer_id) not in a.events.log

    a.signaling.release_floor("tx-a")
    await b.events.wait_for(lambda k, v: k == "speaker_changed" and v is None)
    granted = await value(lambda r: b.signaling.request_floor("tx-b2", r))
    assert granted.granted
    await a.events.wait_for(lambda k, v: k == "speaker_changed" and v == b.peer_id)


async def test_collision_is_settled_the_same_on_both_clients(make_client: MakeClient) -> None:
    """Both ask at once: the lowest participant id keeps the floor, the other yields."""
    a = await joined_client(make_client)
    b = await joined_client(make_client)
    answers = await asyncio.gather(
        value(lambda r: a.signaling.request_floor("tx-a", r)),
        value(lambda r: b.signaling.request_floor("tx-b", r)),
    )
    keeper = min((a, b), key=lambda c: int(c.peer_id))
    loser = b if keeper is a else a
    loser_tx = "tx-b" if loser is b else "tx-a"
    # Both may have been granted (the unmutes crossed) or the loser saw the keeper first.
    assert answers[[a, b].index(keeper)].granted
    loser_answer = answers[[a, b].index(loser)]
    if loser_answer.granted:
        await loser.events.wait_for(
            lambda k, v: k == "floor_lost" and v == (loser_tx, FloorLost.COLLISION)
        )
    for client in (a, b):  # one picture on both sides
        await client.events.wait_for(lambda k, v: k == "speaker_changed" and v == keeper.peer_id)
    await asyncio.sleep(0.5)  # nothing flips back
    assert keeper.events.last("speaker_changed") == keeper.peer_id
    assert loser.events.last("speaker_changed") == keeper.peer_id
    assert loser.signaling._a.muted
    assert not keeper.signaling._a.muted
