"""``close()`` leaves nothing behind; a failed ``connect`` reports a TransportError only."""

from __future__ import annotations

import asyncio
import threading

import pytest

from adapters.backends.reference.media.sfu_media import SfuMedia
from adapters.backends.reference.protocol import (
    CONNECT_TRANSPORT,
    CREATE_TRANSPORT,
    GET_CAPABILITIES,
)
from adapters.server.sfu import AiortcRouter
from fsm.errors import LinkError, RequestFailed, TransportError
from fsm.ports import Result

from .conftest import CHANNEL, MakeClient
from .support import Events, RouterRequester, ToneAudio, outcome, sources, until


def _threads() -> set[threading.Thread]:
    # the loop's default executor (aiortc encodes there) is the loop's, not ours
    return {t for t in threading.enumerate() if not t.name.startswith("asyncio_")}


async def test_close_leaves_no_task_thread_or_connection(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    tasks, threads = set(asyncio.all_tasks()), _threads()
    a = await make_client("A", freq=440.0)
    b = await make_client("B", liveness_timeout=1.0)
    assert (await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))).ok
    router.floor_changed(CHANNEL, "A")
    a.media.set_transmitting(True)
    b.media.expect_audio(True)
    assert await until(lambda: b.audio.received() > 5, within=2.0)
    pcs = a.media.peer_connections() + b.media.peer_connections()
    assert len(pcs) == 4

    for client in (a, b):
        client.media.close()
        client.media.close()  # idempotent
        assert not client.media.is_alive()
        await client.media.wait_closed()
        await client.audio.aclose()
    assert [pc.connectionState for pc in pcs] == ["closed"] * 4
    assert len(b.media.consumers()) == 0
    await router.close()
    await asyncio.sleep(0.1)  # let aiortc's own finished tasks be collected

    assert set(asyncio.all_tasks()) - tasks == set()
    assert _threads() - threads == set()
    assert a.events.failures == []  # closing is not a failure
    assert b.events.failures == []


@pytest.mark.parametrize("after", [0.0, 0.01, 0.03])  # requests, ICE checks, DTLS
async def test_close_during_connect_drops_the_reply(router: AiortcRouter, after: float) -> None:
    tasks = set(asyncio.all_tasks())
    router.join_channel("A", CHANNEL)
    media = SfuMedia(RouterRequester(router, "A"), ToneAudio())
    replies: list[Result] = []
    media.connect(Events(), replies.append)
    await asyncio.sleep(after)
    # On a fast run the whole connect can finish within 30 ms: a reply that came before
    # close() is legitimate. What must never happen is a reply after it.
    at_close = list(replies)
    if after == 0.0:
        assert at_close == []  # this case really closes mid-connect
    media.close()
    await media.wait_closed()
    await router.close()
    await asyncio.sleep(0.1)
    assert replies == at_close
    assert set(asyncio.all_tasks()) - tasks == set()


@pytest.mark.parametrize(
    ("method", "error"),
    [
        (CREATE_TRANSPORT, RequestFailed(CREATE_TRANSPORT, code="internal")),
        (GET_CAPABILITIES, LinkError(code=1006)),
        (CONNECT_TRANSPORT, LinkError(code=1006)),
    ],
)
async def test_requester_error_during_connect_is_a_transport_error(
    router: AiortcRouter, method: str, error: Exception
) -> None:
    tasks = set(asyncio.all_tasks())
    router.join_channel("A", CHANNEL)
    requester = RouterRequester(router, "A")
    requester.fail[method] = error  # type: ignore[assignment]
    media = SfuMedia(requester, ToneAudio())
    events = Events()

    result = await outcome(lambda reply: media.connect(events, reply))
    assert isinstance(result.error, TransportError)
    assert result.error.__cause__ is error
    assert method in str(result.error)
    assert not media.is_alive()
    assert all(pc.connectionState == "closed" for pc in media.peer_connections())
    later = await outcome(media.attach_microphone)  # the session is unusable, and says so
    assert isinstance(later.error, TransportError)

    media.close()
    await media.wait_closed()
    await router.close()
    await asyncio.sleep(0.1)
    assert set(asyncio.all_tasks()) - tasks == set()
    assert events.failures == []


async def test_no_common_codec_and_calls_before_connect(router: AiortcRouter) -> None:
    requester = RouterRequester(router, "A")
    media = SfuMedia(requester, ToneAudio())
    for call in (lambda reply: media.follow(sources(["p"]), reply), media.attach_microphone):
        early = await outcome(call)
        assert isinstance(early.error, TransportError)
    requester.capabilities = {"codecs": [{"mimeType": "audio/G729", "clockRate": 8000}]}
    result = await outcome(lambda reply: media.connect(Events(), reply))
    assert isinstance(result.error, TransportError)
    assert "codec" in str(result.error)
    media.close()
    await media.wait_closed()


async def test_microphone_is_taken_when_attached_and_never_stopped(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    # The machine connects the media before it opens the audio devices.
    a = await make_client("A", freq=440.0, produce=False)
    assert a.audio.mics == []
    assert (await outcome(a.media.attach_microphone)).ok
    assert len(a.audio.mics) == 1
    a.media.set_transmitting(True)
    await asyncio.sleep(0.2)
    a.media.close()
    await a.media.wait_closed()
    assert a.audio.mics[0].readyState == "live"  # the audio adapter owns it
