"""Cases about the floor: who may talk, and everybody hearing who does.

With ``Features.floor == FloorControl.SERVER`` the server decides; with ``CLIENT`` the
backend applies the shared client-side policy (a grant only while nobody else talks, a
collision resolved with exactly one keeping the floor). The same cases check both."""

from __future__ import annotations

import asyncio

from fsm.domain import FloorControl, FloorLost

from ..client import Client
from ..failures import applies, expect
from ..harness import ConformanceHarness
from ..scene import Scene


async def _pair(scene: Scene) -> tuple[Client, Client]:
    media = scene.capabilities.media  # a mixer hears a talker only from its audio
    alice = await scene.joined("alice", media=media)
    bob = await scene.joined("bob", media=media)
    return alice, bob


async def _sees_speaker(client: Client, speaker: str | None, since: int, within: float) -> None:
    await client.events.wait_for(
        "speaker_changed",
        lambda c: c.arg == speaker,
        since=since,
        within=within,
        what=f"speaker_changed({speaker!r})",
    )


async def speaker_changes(harness: ConformanceHarness) -> None:
    """Another member sees ``speaker_changed(talker)`` when one talks and
    ``speaker_changed(None)`` when it releases."""
    async with Scene(harness) as scene:
        alice, bob = await _pair(scene)
        patience = scene.capabilities.patience
        mark = bob.events.mark()
        answer = await alice.talk("tx-alice-1")
        expect(answer.granted, f"the floor was denied in an idle channel: {answer!r}")
        await _sees_speaker(bob, alice.peer_id, mark, patience)
        mark = bob.events.mark()
        alice.release("tx-alice-1")
        await _sees_speaker(bob, None, mark, patience)


async def floor_grant_deny_release(harness: ConformanceHarness) -> None:
    """The floor is granted when free, denied while another holds it, and granted to the
    other once the holder releases it."""
    async with Scene(harness) as scene:
        alice, bob = await _pair(scene)
        patience = scene.capabilities.patience
        mark = bob.events.mark()
        expect((await alice.talk("tx-alice-1")).granted, "the floor was denied while free")
        await _sees_speaker(bob, alice.peer_id, mark, patience)
        denied = await bob.talk("tx-bob-1")
        expect(not denied.granted, "the floor was granted while another member held it")
        expect(
            denied.speaker in (None, alice.peer_id),
            f"a deny named {denied.speaker!r} as the speaker, not the holder {alice.peer_id!r}",
        )
        mark = bob.events.mark()
        alice.release("tx-alice-1")
        await _sees_speaker(bob, None, mark, patience)
        expect((await bob.talk("tx-bob-2")).granted, "the floor was denied after its release")
        bob.release("tx-bob-2")


async def floor_collision(harness: ConformanceHarness) -> None:
    """Two members asking at the same moment end with exactly one holding the floor; a
    client-side loser is told ``floor_lost(COLLISION)``."""
    async with Scene(harness) as scene:
        alice, bob = await _pair(scene)
        patience = scene.capabilities.patience
        marks = {alice.name: alice.events.mark(), bob.name: bob.events.mark()}
        answers = await asyncio.gather(alice.talk("tx-alice-1"), bob.talk("tx-bob-1"))
        granted = [c for c, a in zip((alice, bob), answers, strict=True) if a.granted]
        expect(bool(granted), "both simultaneous floor requests were denied")
        if scene.features.floor is FloorControl.SERVER:
            expect(len(granted) == 1, "the server granted the floor to both")
        elif len(granted) == 2:
            lost = await _first_loss(granted, marks, patience)
            why = lost.events.of("floor_lost", marks[lost.name])[0].args[1]
            expect(why is FloorLost.COLLISION, f"a collision was reported as {why!r}")
        await scene.quiet()
        holders = [c for c in granted if not c.events.of("floor_lost", marks[c.name])]
        expect(len(holders) == 1, f"{len(holders)} members kept the floor after a collision")
        winner = holders[0]
        loser = bob if winner is alice else alice
        await _sees_speaker(loser, winner.peer_id, marks[loser.name], patience)
        winner.release("tx-alice-1" if winner is alice else "tx-bob-1")


async def _first_loss(clients: list[Client], marks: dict[str, int], within: float) -> Client:
    waits = {
        asyncio.ensure_future(
            c.events.wait_for("floor_lost", since=marks[c.name], within=within)
        ): c
        for c in clients
    }
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    first = done.pop()
    first.result()  # both timed out: the ConformanceError says so
    return waits[first]


async def floor_lost_reported(harness: ConformanceHarness) -> None:
    """A server that ends a transmission (its talk-time limit) reports
    ``floor_lost(tx_id, MAX_TALK_TIME)`` to the talker and a free floor to the others."""
    async with Scene(harness) as scene:
        applies(
            scene.features.floor is FloorControl.SERVER,
            "a client-side floor is lost only to a collision (floor_collision); the machine"
            " itself enforces max_talk_time",
        )
        limit = scene.capabilities.max_talk_time
        applies(limit is not None, "the harness declares no short server talk-time limit")
        assert limit is not None  # for mypy: applies() raised otherwise
        alice, bob = await _pair(scene)
        patience = scene.capabilities.patience
        mark = bob.events.mark()
        expect((await alice.talk("tx-alice-1")).granted, "the floor was denied while free")
        lost = await alice.events.wait_for("floor_lost", within=limit + patience)
        tx_id, why = lost.args
        expect(tx_id in (None, "tx-alice-1"), f"floor_lost named transmission {tx_id!r}")
        expect(why is FloorLost.MAX_TALK_TIME, f"a talk-time revocation reported as {why!r}")
        await _sees_speaker(bob, None, mark, patience)
        alice.release("tx-alice-1")  # what the machine does on a loss: harmless, idempotent
        expect((await bob.talk("tx-bob-1")).granted, "the floor stayed taken after a revocation")
        bob.release("tx-bob-1")


async def release_is_idempotent(harness: ConformanceHarness) -> None:
    """Releasing twice, or releasing a transmission that never was, breaks nothing: the
    link stays up and the floor can be taken again."""
    async with Scene(harness) as scene:
        alice, _bob = await _pair(scene)
        expect((await alice.talk("tx-alice-1")).granted, "the floor was denied while free")
        alice.release("tx-alice-1")
        alice.release("tx-alice-1")
        alice.release("tx-never-was")
        expect((await alice.talk("tx-alice-2")).granted, "the floor was denied after releases")
        alice.release("tx-alice-2")
        await scene.quiet()
        expect(not alice.events.of("lost"), "the link was lost after repeated releases")
