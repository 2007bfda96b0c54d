"""Audio really flows A -> SFU -> B, only while A transmits and holds the floor."""

from __future__ import annotations

import asyncio

from adapters.server.sfu import AiortcRouter

from .conftest import CHANNEL, MakeClient
from .support import dominant_frequency, outcome, sources, until


async def test_create_produce_consume_carries_the_tone(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A", freq=440.0)
    b = await make_client("B")
    assert a.media.is_alive()
    consumed = await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))
    assert consumed.ok, consumed.error
    assert list(b.media.consumers()) == [a.producer_id]
    router.floor_changed(CHANNEL, "A")
    a.media.set_transmitting(True)

    assert await until(lambda: b.audio.received() >= 40, within=2.0), b.audio.received()
    freq = dominant_frequency(b.audio.left_channel(last=25))
    assert abs(freq - 440.0) < 10.0, freq


async def test_microphone_is_paused_until_transmitting(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A", freq=440.0)
    b = await make_client("B")
    assert (await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))).ok
    router.floor_changed(CHANNEL, "A")  # the floor alone does not open the microphone

    await asyncio.sleep(0.8)
    assert b.audio.received() == 0

    a.media.set_transmitting(True)
    assert await until(lambda: b.audio.received() > 0, within=2.0)
    a.media.set_transmitting(False)
    await asyncio.sleep(0.3)  # what was in flight
    paused_at = b.audio.received()
    await asyncio.sleep(0.6)
    assert b.audio.received() == paused_at


async def test_only_the_floor_holder_is_forwarded(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A", freq=440.0)
    b = await make_client("B")
    assert (await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))).ok
    router.floor_changed(CHANNEL, None)
    a.media.set_transmitting(True)  # A sends, but nobody holds the floor

    await asyncio.sleep(0.8)
    assert b.audio.received() == 0

    router.floor_changed(CHANNEL, "A")
    assert await until(lambda: b.audio.received() > 0, within=2.0)

    router.floor_changed(CHANNEL, "B")  # someone else's turn: A is cut off
    await asyncio.sleep(0.3)
    gated_at = b.audio.received()
    await asyncio.sleep(0.6)
    assert b.audio.received() == gated_at
