"""The SFU side on its own terms: typed refusals, and producers that vanish are announced."""

from __future__ import annotations

import pytest

from adapters.backends.reference.media.sfu_media import SfuMedia
from adapters.backends.reference.protocol import E_BAD_REQUEST, E_FORBIDDEN, E_NOT_FOUND
from adapters.server.sfu import AiortcRouter, MediaError

from .conftest import CHANNEL, MakeClient
from .support import Events, RouterRequester, ToneAudio, outcome, sources, until


async def test_refusals_are_typed_and_leave_the_transport_usable(
    router: AiortcRouter, make_client: MakeClient
) -> None:
    a = await make_client("A")
    b = await make_client("B")
    recv = next(
        t for t in router._transports.values() if t.peer_id == "B" and t.direction == "recv"
    )

    with pytest.raises(MediaError) as bad_sdp:
        await router.consume("B", recv.transport_id, a.producer_id, "not sdp", "offer")
    assert bad_sdp.value.code == E_BAD_REQUEST
    with pytest.raises(MediaError) as wrong_peer:
        await router.produce("A", recv.transport_id, "audio")
    assert wrong_peer.value.code == E_NOT_FOUND
    with pytest.raises(MediaError) as unknown:
        await router.close_consumer("B", "nope")
    assert unknown.value.code == E_NOT_FOUND

    router.join_channel("C", "elsewhere")
    router.join_channel("B", "elsewhere")  # B moved: A's producer is not B's to consume
    with pytest.raises(MediaError) as other_channel:
        await router.consume("B", recv.transport_id, a.producer_id, "v=0", "offer")
    assert other_channel.value.code == E_FORBIDDEN
    router.join_channel("B", CHANNEL)

    ok = await outcome(lambda reply: b.media.follow(sources([a.producer_id]), reply))
    assert ok.ok, ok.error
    assert b.media.is_alive()


async def test_vanished_producers_are_announced() -> None:
    closed: list[tuple[str, str]] = []
    announcing = AiortcRouter(on_producer_closed=lambda *ids: closed.append(ids))
    announcing.join_channel("A", CHANNEL)
    audio = ToneAudio()
    media = SfuMedia(RouterRequester(announcing, "A"), audio)
    producers = []
    try:
        for _ in range(2):  # what the machine does to rebuild media: close, connect, attach
            media.close()
            connected = await outcome(lambda reply: media.connect(Events(), reply))
            assert connected.ok, connected.error
            attached = await outcome(media.attach_microphone)
            assert attached.ok, attached.error
            producers.append(media.producer_id)
        assert producers[0] != producers[1]
        assert await until(lambda: closed == [("A", producers[0])], within=2.0), closed
        assert media.is_alive()

        media.close()  # the client goes away without a close_peer from the server
        await media.wait_closed()
        assert await until(lambda: len(closed) == 2, within=2.0), closed
        assert closed[1] == ("A", producers[1])
    finally:
        await audio.aclose()
        await announcing.close()
    assert len(closed) == 2  # the router's own close() is not announced
