"""A real speaker: a PortAudio ``OutputStream`` drained from a ring buffer.

The mixer writes on the event loop; PortAudio's callback, on its own real-time thread,
only copies out of the :class:`RingBuffer` (silence when it is empty).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fsm.logs import get_logger

from .frames import FRAME_SAMPLES, RATE, MonoResampler, Samples
from .portaudio import DeviceInfo, close_stream, find_device, keep_open, open_error, sounddevice
from .ring import RingBuffer

log = get_logger("ptt.audio")

CAPACITY_SECONDS = 0.2  # the most latency an overrun can build up before oldest is dropped
PREFILL_SECONDS = 0.04  # two mixer ticks: absorbs the loop's timer jitter


class DeviceSink:
    def __init__(self, device: DeviceInfo, rate: int, channels: int) -> None:
        self.device = device
        self.ring = RingBuffer(int(rate * CAPACITY_SECONDS), int(rate * PREFILL_SECONDS))
        self._channels = channels
        self._resampler = MonoResampler(RATE, rate) if rate != RATE else None
        self._stream: Any = None

    @classmethod
    def open(cls, selector: int | str | None) -> DeviceSink:
        """Find and start the output device. Blocking (PortAudio): run it off the loop."""
        sd = sounddevice()
        device = find_device(selector, "output")
        # Mono on both ears of a headset: duplicate into up to two channels.
        channels = min(2, device.max_output_channels)
        try:
            sd.check_output_settings(
                device.index, samplerate=RATE, channels=channels, dtype="int16"
            )
            rate = RATE
        except sd.PortAudioError:
            rate = int(device.default_samplerate)
        sink = cls(device, rate, channels)
        try:
            sink._stream = sd.OutputStream(
                device=device.index,
                samplerate=rate,
                channels=channels,
                dtype="int16",
                blocksize=FRAME_SAMPLES if rate == RATE else 0,
                callback=sink._callback,
            )
            keep_open(sink._stream)
            sink._stream.start()
        except Exception as exc:
            sink.close()
            raise open_error(device, "output", exc) from exc
        log.info("audio.output_opened", device=device.name, index=device.index, rate=rate)
        return sink

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        # PortAudio's thread: never block, never raise (an exception would abort the stream).
        outdata[:] = self.ring.read(frames)[:, np.newaxis]

    def write(self, samples: Samples) -> None:
        if self._resampler is not None:
            samples = self._resampler.convert(samples)
        self.ring.write(samples)

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            close_stream(stream)
