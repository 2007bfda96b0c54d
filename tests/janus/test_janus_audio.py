"""Audio proven by sound: A's 440 Hz tone comes out of B's mix, through a real Janus."""

from __future__ import annotations

import asyncio

import numpy as np

from adapters.backends.janus import LocalJanus
from adapters.devices.audio import RATE, MemoryTap, SoundDeviceAudio, dominant_frequency
from fsm.ports import Result

from .conftest import ROOM, Client, MakeClient, joined_client, value


async def started(audio: SoundDeviceAudio) -> SoundDeviceAudio:
    result = await _start(audio)
    assert result.error is None
    return audio


async def _start(audio: SoundDeviceAudio) -> Result[object]:
    future: asyncio.Future[Result[object]] = asyncio.get_running_loop().create_future()
    audio.start(future.set_result)
    return await asyncio.wait_for(future, 5.0)


async def test_a_talker_is_heard_at_440_hz_in_the_mix(make_client: MakeClient) -> None:
    """A takes the floor and unmutes its tone; B's received mix is dominated by 440 Hz."""
    tap = MemoryTap()
    mic_a = await started(SoundDeviceAudio("tone:440:-12dB", output=False))
    ear_b = await started(SoundDeviceAudio("tone:1000", output=False, tap=tap))
    try:
        a = await joined_client(make_client, media=True, audio=mic_a)
        b = await joined_client(make_client, media=True, audio=ear_b)
        for client in (a, b):
            await connect_and_follow(client)

        await asyncio.sleep(1.0)
        silence = tap.samples()
        assert silence.size > RATE // 2  # the mix flows even with nobody talking
        assert np.max(np.abs(silence[-RATE // 2 :])) < 200  # and it is silent (B's gate is shut)

        assert (await value(lambda r: a.signaling.request_floor("tx", r))).granted
        assert a.media is not None
        a.media.set_transmitting(True)
        await b.events.wait_for(lambda k, v: k == "speaker_changed" and v == a.peer_id)
        await asyncio.sleep(2.0)
        heard = tap.samples()[-RATE:]  # the last second
        assert abs(dominant_frequency(heard) - 440.0) < 5.0
        assert a.media.is_alive()
        assert b.media is not None
        assert b.media.is_alive()
        assert a.media_events.log == []
        assert b.media_events.log == []
    finally:
        await mic_a.aclose()
        await ear_b.aclose()


async def heard_440(tap: MemoryTap, within: float = 10.0) -> None:
    """Wait until the last 200 ms heard are a 440 Hz tone."""
    async with asyncio.timeout(within):
        while True:
            recent = tap.samples()[-RATE // 5 :]
            loud = recent.size == RATE // 5 and np.max(np.abs(recent)) > 1000
            if loud and abs(dominant_frequency(recent) - 440.0) < 10.0:
                return
            await asyncio.sleep(0.02)


async def test_after_a_janus_restart_everything_is_rebuilt_and_heard_again(
    make_client: MakeClient, janus: LocalJanus
) -> None:
    """Kill Janus mid-talk: both rejoin (resumed=False), rebuild media, and B hears A again."""
    tap = MemoryTap()
    mic_a = await started(SoundDeviceAudio("tone:440:-12dB", output=False))
    ear_b = await started(SoundDeviceAudio("tone:1000", output=False, tap=tap))
    try:
        a = await joined_client(make_client, media=True, audio=mic_a)
        b = await joined_client(make_client, media=True, audio=ear_b)
        clients = (a, b)
        for client in clients:
            await connect_and_follow(client)
        assert (await value(lambda r: a.signaling.request_floor("tx1", r))).granted
        assert a.media is not None
        a.media.set_transmitting(True)
        await heard_440(tap)

        killed = asyncio.get_running_loop().time()
        await janus.kill()
        for client in clients:
            await client.events.wait_for(lambda k, _: k == "lost", 5.0)
        await janus.start()
        for client in clients:  # what the machine does on resumed=False
            assert client.joined is not None
            assert await client.open() == "opened"
            assert not (await client.join(ROOM, client.joined.resume_id)).resumed
            assert client.media is not None
            client.media.close()
            await connect_and_follow(client)
        tap.clear()
        assert (await value(lambda r: a.signaling.request_floor("tx2", r))).granted
        await heard_440(tap)
        took = asyncio.get_running_loop().time() - killed
        print(f"janus kill -> heard again in {took * 1000:.0f} ms")
    finally:
        await mic_a.aclose()
        await ear_b.aclose()


async def test_a_media_rebuild_on_a_live_handle_keeps_the_participant(
    make_client: MakeClient,
) -> None:
    """close() hangs up (Janus then drops us from the room); connect() rejoins as the same id."""
    client = await joined_client(make_client, media=True)
    other = await joined_client(make_client)
    await client.connect_media()
    assert client.media is not None
    first_pc = client.media.pc
    client.media.close()
    await client.connect_media()
    assert client.media.pc is not first_pc
    assert client.media.is_alive()
    members = {m.peer_id for m in (await other.join_listing())}
    assert client.peer_id in members


async def connect_and_follow(client: Client) -> None:
    await client.connect_media()
    assert client.media is not None
    assert client.joined is not None
    await value(client.media.attach_microphone)
    sources = client.joined.sources
    await value(lambda r: client.media.follow(sources, r))  # type: ignore[union-attr]
