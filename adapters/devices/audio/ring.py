"""A bounded sample FIFO between the event loop (writer) and PortAudio's thread (reader)."""

from __future__ import annotations

import threading

import numpy as np

from .frames import Samples


class RingBuffer:
    """Overrun drops the oldest samples (bounded latency); underrun plays silence.

    After running dry the reader waits until ``prefill`` samples are queued again, so the
    writer's timing jitter (the loop's 20 ms ticks against the device's own clock) does
    not turn into a click on every block. The lock is only held for two array copies, so
    the real-time reader never waits on anything slower than that.
    """

    def __init__(self, capacity: int, prefill: int) -> None:
        self._buf = np.zeros(capacity, dtype=np.int16)
        self._prefill = min(prefill, capacity)
        self._start = 0
        self._size = 0
        self._playing = False
        self._lock = threading.Lock()
        self.dropped = 0  # samples lost to overrun
        self.starved = 0  # times the reader ran dry mid-stream

    @property
    def size(self) -> int:
        return self._size

    def write(self, samples: Samples) -> None:
        cap = len(self._buf)
        data = samples[-cap:]
        with self._lock:
            self.dropped += len(samples) - len(data)
            excess = self._size + len(data) - cap
            if excess > 0:
                self._start = (self._start + excess) % cap
                self._size -= excess
                self.dropped += excess
            end = (self._start + self._size) % cap
            first = min(len(data), cap - end)
            self._buf[end : end + first] = data[:first]
            self._buf[: len(data) - first] = data[first:]
            self._size += len(data)

    def read(self, n: int) -> Samples:
        out = np.zeros(n, dtype=np.int16)
        cap = len(self._buf)
        with self._lock:
            if not self._playing:
                if self._size < self._prefill or self._size == 0:
                    return out
                self._playing = True
            take = min(n, self._size)
            first = min(take, cap - self._start)
            out[:first] = self._buf[self._start : self._start + first]
            out[first:take] = self._buf[: take - first]
            self._start = (self._start + take) % cap
            self._size -= take
            if take < n:
                self._playing = False
                self.starved += 1
        return out
