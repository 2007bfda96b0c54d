"""Pure pieces: analysis helpers, frame conversion, the device ring buffer."""

import asyncio
import math
import threading

import av
import numpy as np
import pytest

from adapters.devices.audio import dominant_frequency, rms_dbfs, sine
from adapters.devices.audio.frames import FrameConverter, Rechunker
from adapters.devices.audio.ring import RingBuffer
from adapters.devices.audio.threads import Workers


@pytest.mark.parametrize("freq", [150.0, 440.0, 1234.5])
def test_dominant_frequency_and_level_of_a_known_sine(freq: float) -> None:
    x = sine(freq, 4800, level_dbfs=-6.0)
    assert dominant_frequency(x) == pytest.approx(freq, abs=1.0)
    assert rms_dbfs(x) == pytest.approx(-6.0 - 3.01, abs=0.05)  # sine RMS = peak - 3 dB
    assert rms_dbfs(np.zeros(100, np.int16)) == -math.inf


def test_converter_downmixes_aiortc_stereo_s16() -> None:
    mono = sine(440, 960, level_dbfs=-6)
    left_only = np.stack([mono, np.zeros_like(mono)], axis=1).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(left_only, format="s16", layout="stereo")
    frame.sample_rate = 48000
    out = FrameConverter().convert(frame)
    assert out.dtype == np.int16
    assert out.shape == (960,)
    assert rms_dbfs(out) == pytest.approx(rms_dbfs(mono) - 6.02, abs=0.1)  # mean of L and 0


def test_converter_resamples_other_rates_and_planar_float() -> None:
    n = 4410
    t = np.arange(n) / 44100
    wave = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
    frame.sample_rate = 44100
    frame.pts = 0
    conv = FrameConverter()
    out = np.concatenate([conv.convert(frame) for _ in range(3)])
    assert abs(len(out) - 3 * 4800) < 200  # 48 kHz now (minus the resampler's delay)
    assert dominant_frequency(out) == pytest.approx(1000, abs=2)


def test_rechunker_makes_whole_frames() -> None:
    r = Rechunker(960)
    assert r.push(np.arange(500, dtype=np.int16)) == []
    frames = r.push(np.arange(500, 2000, dtype=np.int16))
    assert [len(f) for f in frames] == [960, 960]
    assert np.array_equal(np.concatenate(frames), np.arange(1920, dtype=np.int16))


def test_ring_buffer_prefills_underruns_to_silence_and_drops_oldest() -> None:
    ring = RingBuffer(capacity=10, prefill=4)
    ring.write(np.array([1, 2, 3], np.int16))
    assert ring.read(2).tolist() == [0, 0]  # below prefill: silence, nothing consumed
    ring.write(np.array([4, 5], np.int16))
    assert ring.read(2).tolist() == [1, 2]
    assert ring.read(5).tolist() == [3, 4, 5, 0, 0]  # underrun: the rest is silence
    assert ring.starved == 1
    ring.write(np.arange(100, 113, dtype=np.int16))  # 13 into 10: the oldest 3 go
    assert ring.dropped == 3
    assert ring.read(10).tolist() == list(range(103, 113))


async def test_workers_release_what_a_cancelled_caller_never_takes() -> None:
    workers, gate = Workers(), threading.Event()
    abandoned: list[str] = []

    def slow_open() -> str:
        gate.wait(2)  # e.g. PortAudio opening a device
        return "stream"

    task = asyncio.ensure_future(workers.run(slow_open, abandoned.append))
    await asyncio.sleep(0.01)
    task.cancel()  # stop() during start()
    gate.set()
    async with asyncio.timeout(3):
        await workers.join()
    assert task.cancelled()
    assert abandoned == ["stream"]
    assert not [t for t in threading.enumerate() if t.name == "ptt-audio-open"]


async def test_workers_pass_results_and_errors_through() -> None:
    workers = Workers()
    assert await workers.run(lambda: 42, lambda _: None) == 42

    def broken() -> int:
        raise ValueError("no such device")

    with pytest.raises(ValueError, match="no such device"):
        await workers.run(broken, lambda _: None)
    await workers.join()
