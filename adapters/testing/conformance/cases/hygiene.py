"""Cases about ending well: silence after close, replies answered once, nothing leaked."""

from __future__ import annotations

from ..failures import expect
from ..harness import ConformanceHarness
from ..leaks import Resources, leftovers
from ..replies import wait_result
from ..scene import Scene


async def close_while_opening(harness: ConformanceHarness) -> None:
    """Closing a link that is still opening aborts it: no callback at all afterwards."""
    async with Scene(harness) as scene:
        alice = scene.client("alice")
        url = await harness.url("alice")
        events = alice.start_open(await harness.token("alice", scene.channel), url)
        alice.close()
        await scene.quiet()
        await scene.quiet()  # twice: a connect in flight may take a moment to come back
        expect(not events.calls, f"callbacks after close(): {[c.kind for c in events.calls]}")


async def silent_after_close(harness: ConformanceHarness) -> None:
    """After ``close()`` nothing the channel does (a talker, a leaver) reaches our events."""
    async with Scene(harness) as scene:
        alice = await scene.joined("alice")
        bob = await scene.joined("bob")
        await alice.events.wait_for(
            "member_joined",
            lambda c: c.arg.peer_id == bob.peer_id,
            within=scene.capabilities.patience,
        )
        seen = alice.events.mark()
        alice.close()
        answer = await bob.talk("tx-bob-1")
        bob.release(answer.tx_id)
        bob.leave()
        await scene.quiet()
        late = [c.kind for c in alice.events.calls[seen:]]
        expect(not late, f"callbacks after close(): {late}")


async def replies_answered_on_close(harness: ConformanceHarness) -> None:
    """A reply still pending when the link is closed is called exactly once (most likely
    with an error), never left hanging."""
    async with Scene(harness) as scene:
        alice = scene.client("alice")
        await alice.open()
        reply, future = alice.replies.reply("join pending at close")
        with alice.rules.port_call("join"):
            alice.signaling.join(scene.channel, None, reply)
        alice.close()
        await wait_result(future, scene.capabilities.patience, "the join reply pending at close")
        # Scene.close() then checks it was not called a second time.


async def no_leaks_after_close(harness: ConformanceHarness) -> None:
    """A session that talked, left and closed, and a link closed while opening, leave no
    asyncio task and no socket behind."""
    async with Scene(harness) as scene:
        media = scene.capabilities.media
        url = await harness.url("alice")  # the harness's own sockets exist before the snapshot
        token = await harness.token("alice", scene.channel)
        before = Resources.now()
        alice = await scene.joined("alice", media=media)
        answer = await alice.talk("tx-alice-1")
        alice.release(answer.tx_id)
        alice.leave()
        alice.close()
        left = await leftovers(before, scene.capabilities.patience)
        expect(not left, "left behind by a closed session:\n  " + "\n  ".join(left))
        again = scene.client("alice", media=media)
        again.start_open(token, url)
        again.close()
        left = await leftovers(before, scene.capabilities.patience)
        expect(not left, "left behind by a link closed while opening:\n  " + "\n  ".join(left))
