"""(1) The synthetic tone track: 20 ms s16 mono frames, paced in real time, right pitch."""

import asyncio
import time

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from adapters.devices.audio import SoundDeviceAudio, dominant_frequency, rms_dbfs

from .conftest import closed, start


async def test_tone_track_frames_are_paced_and_carry_the_tone() -> None:
    audio = SoundDeviceAudio("tone:440:-12dB", output=False)
    assert (await start(audio)).ok
    track = audio.microphone_track()
    assert track.kind == "audio"
    t0 = time.monotonic()
    frames = [await track.recv() for _ in range(26)]
    elapsed = time.monotonic() - t0
    audio.stop()
    await closed(audio)

    # The first frame is immediate, then one per 20 ms: 25 x 20 ms = 0.5 s.
    assert 0.48 <= elapsed < 0.9  # paced, not bursty; the upper bound allows a loaded CI box
    for i, frame in enumerate(frames):
        assert (frame.samples, frame.sample_rate) == (960, 48000)
        assert (frame.format.name, frame.layout.name) == ("s16", "mono")
        assert frame.time_base is not None
        assert (frame.time_base.numerator, frame.time_base.denominator) == (1, 48000)
        assert frame.pts == i * 960
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    assert dominant_frequency(samples) == pytest.approx(440, abs=0.5)
    assert rms_dbfs(samples) == pytest.approx(-12 - 3.01, abs=0.1)  # -12 dB peak
    # Phase-continuous across frames: no step bigger than the sine's own steepest slope.
    peak = 32768 * 10 ** (-12 / 20)
    assert np.max(np.abs(np.diff(samples.astype(np.int32)))) <= peak * 2 * np.pi * 440 / 48000 + 2


async def test_a_stalled_reader_resumes_at_now_instead_of_a_burst() -> None:
    audio = SoundDeviceAudio("tone:440", output=False)
    assert (await start(audio)).ok
    track = audio.microphone_track()
    await track.recv()
    await asyncio.sleep(0.3)  # e.g. a paused sender that stopped pulling
    late = await track.recv()
    t0 = time.monotonic()
    nxt = await track.recv()
    waited = time.monotonic() - t0
    audio.stop()
    assert late.pts is not None
    assert late.pts >= 14 * 960  # the pts clock kept real time across the stall
    assert nxt.pts == late.pts + 960
    assert waited >= 0.015  # ...and the next frame is paced, not bursted


async def test_the_track_ends_with_stop() -> None:
    audio = SoundDeviceAudio("tone:440", output=False)
    assert (await start(audio)).ok
    track = audio.microphone_track()
    await track.recv()
    waiting = asyncio.ensure_future(track.recv())  # sleeps until the next frame is due
    await asyncio.sleep(0.005)
    audio.stop()
    with pytest.raises(MediaStreamError):
        await waiting
    assert track.readyState == "ended"
