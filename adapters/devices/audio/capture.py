"""A real microphone: a PortAudio ``InputStream`` feeding the event loop.

PortAudio calls ``_callback`` on its own real-time thread. It must not block there, so it
only copies the block and posts it to the loop with ``call_soon_threadsafe``; everything
else (resampling, framing, queueing) happens on the loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError

from fsm.logs import get_logger

from .frames import FRAME_SAMPLES, RATE, MonoResampler, Rechunker, Samples
from .portaudio import DeviceInfo, close_stream, find_device, keep_open, open_error, sounddevice

log = get_logger("ptt.audio")

# Frames kept while nobody reads (e.g. before the sender starts pulling). Oldest go first:
# a late reader gets at most 100 ms of stale audio, never a growing delay.
MAX_QUEUED = 5


class DeviceSource:
    def __init__(self, loop: asyncio.AbstractEventLoop, device: DeviceInfo, rate: int) -> None:
        self.device = device
        self._loop = loop
        self._resampler = MonoResampler(rate, RATE) if rate != RATE else None
        self._rechunker = Rechunker()
        self._frames: deque[tuple[int, Samples]] = deque(maxlen=MAX_QUEUED)
        self._ready = asyncio.Event()
        self._captured = 0  # samples at 48 kHz since the stream started: the pts clock
        self._closed = False
        self._stream: Any = None

    @classmethod
    def open(cls, loop: asyncio.AbstractEventLoop, selector: int | str | None) -> DeviceSource:
        """Find and start the input device. Blocking (PortAudio): run it off the loop."""
        sd = sounddevice()
        device = find_device(selector, "input")
        try:
            sd.check_input_settings(device.index, samplerate=RATE, channels=1, dtype="int16")
            rate = RATE
        except sd.PortAudioError:
            # e.g. a JACK server running at 44.1 kHz: take the device's rate and resample.
            rate = int(device.default_samplerate)
        source = cls(loop, device, rate)
        try:
            source._stream = sd.InputStream(
                device=device.index,
                samplerate=rate,
                channels=1,
                dtype="int16",
                # 20 ms blocks at 48 kHz need no re-framing; PortAudio adapts to the host.
                blocksize=FRAME_SAMPLES if rate == RATE else 0,
                callback=source._callback,
            )
            keep_open(source._stream)
            source._stream.start()
        except Exception as exc:  # PortAudioError, or ValueError for odd device params
            source.close()
            raise open_error(device, "input", exc) from exc
        log.info("audio.input_opened", device=device.name, index=device.index, rate=rate)
        return source

    def _callback(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        # PortAudio's thread: copy (indata is reused) and hand over; never raise here.
        block = np.array(indata[:, 0], dtype=np.int16)
        overflow = bool(status.input_overflow)
        with contextlib.suppress(RuntimeError):  # loop closed: the process is shutting down
            self._loop.call_soon_threadsafe(self._deliver, block, overflow)

    def _deliver(self, block: Samples, overflow: bool) -> None:
        if self._closed:
            return
        if overflow:
            log.warning("audio.input_overflow", device=self.device.name)
        if self._resampler is not None:
            block = self._resampler.convert(block)
        for frame in self._rechunker.push(block):
            self._frames.append((self._captured, frame))
            self._captured += FRAME_SAMPLES
        self._ready.set()

    async def read(self) -> tuple[int, Samples]:
        while not self._frames:
            if self._closed:
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        if self._closed:
            raise MediaStreamError
        return self._frames.popleft()

    def close(self) -> None:
        """Stop and close the stream (discarding pending buffers); wake any reader."""
        self._closed = True
        stream, self._stream = self._stream, None
        if stream is not None:
            close_stream(stream)
        self._frames.clear()
        # close() can run in the opening thread when an open is abandoned: hop to the loop.
        with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._ready.set)
