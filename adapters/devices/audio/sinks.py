"""Where heard audio goes besides the speaker: a WAV file and an in-memory tap.

Every sink takes 48 kHz mono int16 blocks from the mixer, on the event loop thread.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from .frames import RATE, Samples


class Sink(Protocol):
    def write(self, samples: Samples) -> None: ...

    def close(self) -> None: ...


class MemoryTap:
    """Keeps everything heard, for tests and diagnostics (``samples()``)."""

    def __init__(self) -> None:
        self._blocks: list[Samples] = []

    def write(self, samples: Samples) -> None:
        self._blocks.append(samples.copy())

    def close(self) -> None:
        pass  # keep the samples: tests read them after stop()

    def samples(self) -> Samples:
        return np.concatenate(self._blocks) if self._blocks else np.zeros(0, np.int16)

    def clear(self) -> None:
        self._blocks.clear()


class WavSink:
    """A 48 kHz mono 16-bit WAV of everything heard, valid at every moment.

    ``wave`` rewrites the RIFF and data sizes after every ``writeframes`` and we flush
    right after, so another process can read the file while it is still being written
    (and a crash leaves a playable file). Only audible blocks are written: silence
    between talk spurts is not recorded, so the file is the spurts back to back.
    A write is ~2 KB per 20 ms, small enough to do on the loop thread.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # Both stay open until close(), past this constructor: no ``with`` can hold them.
        self._file = self.path.open("wb")
        self._wav: wave.Wave_write | None = wave.open(self._file, "wb")  # noqa: SIM115
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RATE)
        self._wav.writeframes(b"")  # writes the header now: a valid, empty WAV from the start
        self._file.flush()

    def write(self, samples: Samples) -> None:
        if self._wav is None:
            return
        self._wav.writeframes(samples.astype("<i2", copy=False).tobytes())
        self._file.flush()

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()  # final header patch; it does not close a file it did not open
            self._wav = None
            self._file.close()
