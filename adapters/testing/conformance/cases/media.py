"""Cases about media: the sources a channel offers, reported as full sets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fsm.domain import AudioSource

from ..client import Client
from ..failures import applies, expect
from ..harness import ConformanceHarness
from ..scene import Scene

_View = tuple[AudioSource, ...]


def _view(client: Client) -> _View:
    """What ``client`` believes the channel's sources are now: the last full set."""
    reports = client.events.of("sources_changed")
    if reports:
        last: _View = reports[-1].arg
        return last
    return client.joined.sources if client.joined else ()


def _carries(view: _View, peer_id: str) -> bool:
    return any(s.peer_id in (peer_id, None) for s in view)


async def _until(client: Client, test: Callable[[_View], bool], within: float, what: str) -> _View:
    if test(_view(client)):
        return _view(client)
    call = await client.events.wait_for(
        "sources_changed", lambda c: test(c.arg), within=within, what=what
    )
    view: _View = call.arg
    return view


async def _playing(client: Client, within: float) -> None:
    """Wait until the media adapter handed a received track to ``AudioIO.play``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not (client.audio and client.audio.playing):
        expect(loop.time() < end, f"{client.name}: follow() played no track within {within} s")
        await asyncio.sleep(0.02)


async def sources_full_set(harness: ConformanceHarness) -> None:
    """When peers attach their microphones the others get ``sources_changed`` with the
    complete set (an earlier source still in it), and can follow it."""
    async with Scene(harness) as scene:
        applies(scene.capabilities.media, "the harness's server carries no media")
        patience = scene.capabilities.patience
        alice = await scene.joined("alice", media=True)
        bob = await scene.joined("bob", media=True)
        view = await _until(
            alice, lambda v: _carries(v, bob.peer_id), patience, "a source carrying bob"
        )
        carol = await scene.joined("carol", media=True)
        view = await _until(
            alice,
            lambda v: _carries(v, bob.peer_id) and _carries(v, carol.peer_id),
            patience,
            "a full set carrying bob and carol",
        )
        # One report carrying both proves a full set: a delta would name carol alone.
        await alice.follow(view)
        expect(alice.media.is_alive(), "media.is_alive() is False on a connected path")
        await _playing(alice, patience)
        if any(s.peer_id is not None for s in view):  # an SFU: bob's own source goes away
            bob.leave()
            bob.close()
            await _until(
                alice,
                lambda v: (
                    not any(s.peer_id == bob.peer_id for s in v) and _carries(v, carol.peer_id)
                ),
                patience,
                "a set without bob's source (and with carol's)",
            )


async def media_close(harness: ConformanceHarness) -> None:
    """A closed media path says ``is_alive() == False`` and reports nothing afterwards."""
    async with Scene(harness) as scene:
        applies(scene.capabilities.media, "the harness's server carries no media")
        alice = await scene.joined("alice", media=True)
        expect(alice.media.is_alive(), "media.is_alive() is False on a connected path")
        media = alice.media
        alice.close()
        expect(not media.is_alive(), "media.is_alive() is still True after close()")
