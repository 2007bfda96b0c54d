"""The one audio format inside the adapter, and conversions into and out of it.

Everything between sources, the mixer and the sinks is 48 kHz mono signed 16-bit PCM as
a 1-D ``numpy.int16`` array; aiortc's Opus encoder wants exactly that rate, so the
microphone track needs no resampling on the send path, and one format keeps mixing a sum.
"""

from __future__ import annotations

import fractions

import av
import numpy as np
from numpy.typing import NDArray

RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms: aiortc's audio packetisation time (AUDIO_PTIME)
FRAME_SECONDS = FRAME_SAMPLES / RATE
TIME_BASE = fractions.Fraction(1, RATE)

Samples = NDArray[np.int16]


def silence(n: int = FRAME_SAMPLES) -> Samples:
    return np.zeros(n, dtype=np.int16)


def to_int16(x: NDArray[np.floating]) -> Samples:
    """Float samples in [-1, 1] to int16, clipping instead of wrapping around."""
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def to_float(x: NDArray[np.generic]) -> NDArray[np.float64]:
    """Any PCM sample type PyAV or PortAudio hands us to float64 in [-1, 1]."""
    as_float = np.asarray(x, dtype=np.float64)
    if x.dtype == np.uint8:
        return (as_float - 128.0) / 128.0
    if np.issubdtype(x.dtype, np.integer):
        return as_float / float(2 ** (8 * x.dtype.itemsize - 1))  # full scale of the type
    return as_float


def as_samples(frames: list[av.AudioFrame]) -> Samples:
    """Concatenate s16 mono frames (a resampler's output) into one sample array."""
    if not frames:
        return silence(0)
    return np.concatenate([np.asarray(f.to_ndarray(), dtype=np.int16).reshape(-1) for f in frames])


def make_frame(samples: Samples, pts: int) -> av.AudioFrame:
    """A mono s16 frame as aiortc's own audio tracks build it (pts in samples, 1/48000)."""
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


class FrameConverter:
    """Received ``av.AudioFrame`` (any format, layout, rate) to 48 kHz mono int16.

    aiortc delivers s16 stereo at 48 kHz: that common case is a numpy downmix (mean of
    the channels). Any other rate goes through libswresample, re-created if the stream's
    format changes mid-way (PyAV's resampler refuses frames unlike its first).
    """

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None

    def convert(self, frame: av.AudioFrame) -> Samples:
        if frame.sample_rate == RATE:
            return _downmix(frame)
        return self._resample(frame)

    def _resample(self, frame: av.AudioFrame) -> Samples:
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        try:
            return as_samples(self._resampler.resample(frame))
        except ValueError:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            return as_samples(self._resampler.resample(frame))


def _downmix(frame: av.AudioFrame) -> Samples:
    arr = frame.to_ndarray()
    channels = len(frame.layout.channels)
    # Planar formats come as (channels, samples); packed ones as (1, samples * channels).
    per_channel = arr if frame.format.is_planar else arr.reshape(-1, channels).T
    if channels == 1 and per_channel.dtype == np.int16:
        return np.array(per_channel.reshape(-1), dtype=np.int16)
    return to_int16(to_float(per_channel).mean(axis=0))


class MonoResampler:
    """Mono int16 from one rate to another, for devices that refuse 48 kHz."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self._from_rate = from_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
        self._pts = 0

    def convert(self, samples: Samples) -> Samples:
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._from_rate
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, self._from_rate)
        self._pts += len(samples)
        return as_samples(self._resampler.resample(frame))


class Rechunker:
    """Cuts a stream of arbitrarily sized chunks into whole 20 ms frames."""

    def __init__(self, size: int = FRAME_SAMPLES) -> None:
        self._size = size
        self._pending = silence(0)

    def push(self, samples: Samples) -> list[Samples]:
        data = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        whole = len(data) // self._size * self._size
        self._pending = data[whole:].copy()
        return [data[i : i + self._size] for i in range(0, whole, self._size)]
