"""Cases about the session itself: open, join, members, leave, authentication."""

from __future__ import annotations

from fsm.errors import Cause

from ..failures import expect
from ..harness import ConformanceHarness
from ..scene import Scene

_AUTH_CAUSES = frozenset({Cause.AUTH_INVALID, Cause.AUTH_EXPIRED, Cause.FORBIDDEN})


async def open_join_leave(harness: ConformanceHarness) -> None:
    """Open, join and leave: one ``opened``, a ``Joined`` with our peer id among its members
    (and a resume id when the backend resumes)."""
    async with Scene(harness) as scene:
        alice = scene.client("alice")
        await alice.open()
        joined = await alice.join()
        members = {m.peer_id for m in joined.members}
        expect(
            joined.peer_id in members,
            f"Joined.members {sorted(members)} lacks our own peer id {joined.peer_id!r}",
        )
        expect(not joined.resumed, "a first join (no resume id) answered resumed=True")
        if scene.features.resume:
            expect(joined.resume_id is not None, "features.resume but Joined.resume_id is None")
        alice.leave()
        await scene.quiet()
        expect(alice.events.count("opened") == 1, "opened was not reported exactly once")
        expect(not alice.events.of("failed"), "failed after opened")


async def members_seen(harness: ConformanceHarness) -> None:
    """A second client's arrival and departure reach the first as ``member_joined`` and
    ``member_left`` with the peer id the second was given."""
    async with Scene(harness) as scene:
        alice = await scene.joined("alice")
        bob = await scene.joined("bob")
        joined = await alice.events.wait_for(
            "member_joined",
            lambda c: c.arg.peer_id == bob.peer_id,
            within=scene.capabilities.patience,
            what=f"member_joined({bob.peer_id!r})",
        )
        expect(joined.arg.peer_id != alice.peer_id, "member_joined reported ourselves")
        bob_sees = {m.peer_id for m in bob.joined.members} if bob.joined else set()
        expect(alice.peer_id in bob_sees, f"bob's Joined.members {sorted(bob_sees)} lacks alice")
        mark = alice.events.mark()
        bob.leave()
        await alice.events.wait_for(
            "member_left",
            lambda c: c.arg == bob.peer_id,
            since=mark,
            within=scene.capabilities.patience,
            what=f"member_left({bob.peer_id!r})",
        )


async def bad_token_rejected(harness: ConformanceHarness) -> None:
    """Opening with a token the server rejects reports ``failed`` with an auth cause (or
    HTTP 401/403), never ``opened``."""
    async with Scene(harness) as scene:
        alice = scene.client("alice")
        error = await alice.open_failure(await harness.bad_token("alice", scene.channel))
        expect(
            error.cause in _AUTH_CAUSES or error.status in (401, 403),
            f"a rejected token failed with cause={error.cause!r} status={error.status!r}"
            f" ({error!r}); want an auth Cause or HTTP 401/403",
        )


async def join_with_unknown_resume_id(harness: ConformanceHarness) -> None:
    """A join naming a session the server does not keep answers ``resumed=False`` with a
    usable new session."""
    async with Scene(harness) as scene:
        alice = scene.client("alice")
        await alice.open()
        joined = await alice.join("conformance-no-such-session")
        expect(not joined.resumed, "a join with an unknown resume id answered resumed=True")
        members = {m.peer_id for m in joined.members}
        expect(joined.peer_id in members, "Joined.members lacks our own peer id")
