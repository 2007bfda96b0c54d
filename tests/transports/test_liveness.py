"""A dead media path is reported in about ``liveness_timeout``, not aiortc's ~30 s."""

from __future__ import annotations

import asyncio
import time

from adapters.server.sfu import AiortcRouter
from fsm.errors import MediaTimeout, TransportError

from .conftest import CHANNEL, MakeClient
from .support import outcome, sources, until

TIMEOUT = 0.5


async def test_no_audio_from_the_speaker_times_out_once(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A", freq=440.0)
    b = await make_client("B", liveness_timeout=TIMEOUT)
    assert (await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))).ok
    router.floor_changed(CHANNEL, "A")  # A "holds the floor" but never transmits

    armed = time.monotonic()
    b.media.expect_audio(True)
    assert await until(lambda: bool(b.events.failures), within=TIMEOUT + 1.0)
    at, error = b.events.failures[0]
    assert isinstance(error, MediaTimeout)
    assert TIMEOUT <= at - armed < TIMEOUT + 0.5
    assert not b.media.is_alive()
    await asyncio.sleep(0.6)
    assert len(b.events.failures) == 1  # once per session


async def test_flowing_or_unexpected_audio_does_not_fail(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A", freq=440.0, liveness_timeout=TIMEOUT)
    b = await make_client("B", liveness_timeout=TIMEOUT)
    assert (await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))).ok

    # armed, then disarmed before the timeout: nothing is reported
    b.media.expect_audio(True)
    await asyncio.sleep(TIMEOUT / 2)
    b.media.expect_audio(False)
    a.media.set_transmitting(True)
    await asyncio.sleep(TIMEOUT / 2)
    a.media.set_transmitting(False)
    await asyncio.sleep(TIMEOUT * 2)
    assert b.events.failures == []
    assert a.events.failures == []

    # while A really talks, both checks keep seeing media for several windows
    router.floor_changed(CHANNEL, "A")
    a.media.set_transmitting(True)
    b.media.expect_audio(True)
    await asyncio.sleep(2.5)
    assert b.events.failures == []
    assert a.events.failures == []
    assert a.media.is_alive()
    assert b.media.is_alive()


async def test_unacknowledged_talking_times_out(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A", freq=440.0, liveness_timeout=TIMEOUT)
    router.floor_changed(CHANNEL, "A")
    a.media.set_transmitting(True)
    await asyncio.sleep(1.6)  # the server's receiver reports at least once
    assert a.events.failures == []

    # The server stops receiving A without closing the connection (a one-sided freeze):
    # no more RTCP receiver reports reach A.
    send = next(t for t in router._transports.values() if t.peer_id == "A" and t.source)
    await send.pc.getTransceivers()[0].receiver.stop()
    stopped = time.monotonic()
    assert await until(lambda: bool(a.events.failures), within=4.0)
    at, error = a.events.failures[0]
    assert isinstance(error, MediaTimeout)
    assert at - stopped < 3.0  # the 2 s floor of the send window + one report interval


async def test_closed_connection_is_a_transport_failure(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    b = await make_client("B")
    await router.close_peer("B")  # the server side goes away
    assert await until(lambda: bool(b.events.failures), within=3.0)
    _, error = b.events.failures[0]
    assert isinstance(error, TransportError)
    assert not isinstance(error, MediaTimeout)
    assert not b.media.is_alive()
