"""Where microphone samples come from: one interface, three kinds of source.

A source yields ``(pts, samples)``: 960 samples (20 ms at 48 kHz mono) and the position
of their first sample on the source's own sample clock, which becomes the frame's pts.
Gaps in that clock (dropped or skipped audio) are kept, so a receiver sees real time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError

from fsm.errors import DeviceError

from .analysis import sine
from .frames import FRAME_SAMPLES, RATE, Samples, as_samples
from .pacing import Pacer


class Source(Protocol):
    async def read(self) -> tuple[int, Samples]:
        """The next frame; raises ``MediaStreamError`` once the source is closed."""
        ...

    def close(self) -> None: ...


class _PacedSource:
    """A source computed on demand and released in real time, frame by frame."""

    def __init__(self) -> None:
        self._pacer = Pacer()
        self._closed = False

    async def read(self) -> tuple[int, Samples]:
        if self._closed:
            raise MediaStreamError
        n = await self._pacer.next_frame()
        if self._closed:  # closed while we slept
            raise MediaStreamError
        pts = n * FRAME_SAMPLES
        return pts, self._samples(pts)

    def _samples(self, start: int) -> Samples:
        raise NotImplementedError

    def close(self) -> None:
        self._closed = True


class ToneSource(_PacedSource):
    """A continuous sine (phase follows the pts, so skipped time does not click)."""

    def __init__(self, frequency: float, level_dbfs: float) -> None:
        super().__init__()
        self._frequency = frequency
        self._level = level_dbfs

    def _samples(self, start: int) -> Samples:
        return sine(self._frequency, FRAME_SAMPLES, level_dbfs=self._level, start=start)


class WavSource(_PacedSource):
    """A WAV file decoded to 48 kHz mono, looped forever: it plays like a live source,
    so the clip's position follows wall-clock time even while nobody reads it."""

    def __init__(self, samples: Samples) -> None:
        super().__init__()
        # Loop at least one frame long, so that a short clip still fills whole frames.
        reps = -(-FRAME_SAMPLES // len(samples))
        self._clip = np.tile(samples, reps)

    @classmethod
    def load(cls, path: Path) -> WavSource:
        """Blocking (file I/O and decoding): run it off the event loop."""
        return cls(read_audio_file(path))

    def _samples(self, start: int) -> Samples:
        idx = (np.arange(FRAME_SAMPLES) + start) % len(self._clip)
        return self._clip[idx]


def read_audio_file(path: Path) -> Samples:
    """Decode any WAV (any rate, channels, sample format) to 48 kHz mono int16."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    chunks: list[Samples] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise DeviceError(f"{path} has no audio stream", guidance=_WAV_GUIDANCE)
            for frame in container.decode(audio=0):
                chunks.append(as_samples(resampler.resample(frame)))
        chunks.append(as_samples(resampler.resample(None)))  # flush the resampler's tail
    except (OSError, ValueError, av.FFmpegError) as exc:
        raise DeviceError(
            f"cannot read audio source {path}: {exc}", guidance=_WAV_GUIDANCE
        ) from exc
    samples = np.concatenate(chunks)
    if samples.size == 0:
        raise DeviceError(f"audio source {path} holds no samples", guidance=_WAV_GUIDANCE)
    return samples


_WAV_GUIDANCE = "check the --source path: it must name a readable WAV file with audio in it"
