"""``consume`` holds exactly one consumer per listed producer."""

from __future__ import annotations

from adapters.backends.reference.protocol import CLOSE_CONSUMER, CONSUME
from adapters.server.sfu import AiortcRouter
from fsm.ports import Result

from .conftest import MakeClient
from .support import outcome, sources, until


async def test_consume_is_idempotent_and_closes_unlisted(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A")
    b = await make_client("B")
    c = await make_client("C")
    both = [a.producer_id, b.producer_id]

    first = await outcome(lambda reply: c.media.follow(sources(both), reply))
    assert first.ok, first.error
    assert len(c.media.consumers()) == 2
    ids = c.media.consumers()
    assert set(ids) == set(both)

    calls = len(c.requester.calls)
    again = await outcome(lambda reply: c.media.follow(sources(list(reversed(both))), reply))
    assert again.ok
    assert c.media.consumers() == ids
    assert len(c.requester.calls) == calls  # nothing was sent

    only_a = await outcome(lambda reply: c.media.follow(sources([a.producer_id]), reply))
    assert only_a.ok, only_a.error
    assert c.media.consumers() == {a.producer_id: ids[a.producer_id]}
    assert c.requester.calls[calls:] == [CLOSE_CONSUMER]
    played = list(c.audio.frames)  # in consume order: A's track, then B's
    assert c.audio.stopped == [played[1]]  # B's track left the speaker
    # and the server dropped B's consumer
    assert not any(ids[b.producer_id] in t.consumers for t in router._transports.values())


async def test_concurrent_consumes_and_own_producer(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A")
    b = await make_client("B")
    results: list[Result] = []
    wanted = [a.producer_id, b.producer_id, a.producer_id]  # B's own one and a duplicate
    for _ in range(3):  # three reconciliations racing for the same list
        b.media.follow(sources(wanted), results.append)
    assert await until(lambda: len(results) == 3, within=10.0)
    assert all(r.ok for r in results), results
    assert b.media.consumers().keys() == {a.producer_id}
    assert b.requester.calls.count(CONSUME) == 1


async def test_unknown_producer_fails_but_the_transport_survives(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A")
    b = await make_client("B")
    bad = await outcome(lambda reply: b.media.follow(sources(["nope", a.producer_id]), reply))
    assert not bad.ok
    assert "not_found" in str(bad.error)
    assert b.media.consumers().keys() == {a.producer_id}  # the other one still made it
    good = await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))
    assert good.ok
    assert b.media.is_alive()
