"""Cases about losing the link mid-session, and coming back."""

from __future__ import annotations

from fsm.errors import Cause, PttError

from ..failures import applies, expect
from ..harness import ConformanceHarness
from ..replies import wait_result
from ..scene import Scene


async def link_loss_reported_once(harness: ConformanceHarness) -> None:
    """A link dropped mid-session is reported as exactly one ``lost`` with a ``LinkError``
    carrying a ``Cause``, and a request on the dead link still gets its one reply."""
    async with Scene(harness) as scene:
        applies(scene.capabilities.cut_link, "the harness cannot cut a link")
        patience = scene.capabilities.patience
        alice = await scene.joined("alice")
        await scene.joined("bob")
        await harness.cut_link("alice")
        lost = await alice.events.wait_for("lost", within=patience)
        cause = getattr(lost.arg, "cause", None)
        expect(isinstance(cause, Cause), f"lost({lost.arg!r}) has cause {cause!r}, not a Cause")
        await scene.quiet()
        expect(alice.events.count("lost") == 1, "lost was reported more than once")
        reply, future = alice.replies.reply("request_floor after lost")
        with alice.rules.port_call("request_floor"):
            alice.signaling.request_floor("tx-after-loss", reply)
        result = await wait_result(future, patience, "the request_floor reply on a lost link")
        expect(
            result.error is None or isinstance(result.error, PttError),
            f"a request on a lost link failed with {result.error!r}",
        )


async def resume_after_loss(harness: ConformanceHarness) -> None:
    """After a link loss, a new link's join with the old resume id gets the session back
    (same peer id, ``resumed=True``, unseen by others) or, without resume, a fresh one."""
    async with Scene(harness) as scene:
        applies(scene.capabilities.cut_link, "the harness cannot cut a link")
        patience = scene.capabilities.patience
        alice = await scene.joined("alice")
        bob = await scene.joined("bob")
        first = alice.joined
        assert first is not None  # for mypy: joined() joined
        resume_id = first.resume_id or "conformance-no-resume-id"
        mark = bob.events.mark()
        await harness.cut_link("alice")
        await alice.events.wait_for("lost", within=patience)
        await alice.open()  # the same Signaling, a new link: what the machine does
        again = await alice.join(resume_id)
        if not scene.features.resume:
            expect(not again.resumed, "features.resume is False but the join resumed")
            return
        expect(first.resume_id is not None, "features.resume but Joined.resume_id is None")
        expect(again.resumed, "a join within the grace period did not resume the session")
        expect(
            again.peer_id == first.peer_id,
            f"a resumed session changed our peer id: {first.peer_id!r} -> {again.peer_id!r}",
        )
        expect(
            not bob.events.of("member_left", mark),
            "another member saw us leave although the session was resumed",
        )
