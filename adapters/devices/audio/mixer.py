"""Mixes everything to be heard (remote tracks, feedback tones) into the sinks.

One task ticks every 20 ms while anything is audible, takes one frame from each voice,
sums them (clipped) and writes the block to every sink. It sleeps while all voices are
empty, so an idle client costs no wake-ups and the file sink records no silence.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

import numpy as np

from fsm.logs import get_logger

from .frames import FRAME_SAMPLES, Rechunker, Samples
from .pacing import Pacer
from .sinks import Sink

log = get_logger("ptt.audio")

MAX_QUEUED = 10  # 200 ms per voice; a source running faster than us loses its oldest frames
MAX_TONE_FRAMES = 50  # 1 s of queued beeps at most: more would report stale events


class Voice:
    """One input's frame queue with a jitter pre-buffer.

    A network track delivers frames at its sender's pace, not ours: after running dry a
    voice waits for ``prebuffer`` frames before it plays again, so a frame arriving a few
    ms late is not a 20 ms hole in the output.
    """

    def __init__(self, name: str, prebuffer: int, maxlen: int = MAX_QUEUED) -> None:
        self.name = name
        self._frames: deque[Samples] = deque(maxlen=maxlen)
        self._prebuffer = prebuffer
        self._playing = False
        self._rechunker = Rechunker()
        self.dropped = 0
        #: No more frames will come (the track ended): play out what is queued, then go.
        self.finished = False

    @property
    def ready(self) -> bool:
        return bool(self._frames) and (
            self._playing or self.finished or len(self._frames) >= self._prebuffer
        )

    @property
    def queued(self) -> int:
        return len(self._frames)

    def push(self, samples: Samples) -> None:
        for frame in self._rechunker.push(samples):
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(frame)

    def pull(self) -> Samples | None:
        if not self.ready:
            self._playing = False
            return None
        self._playing = True
        return self._frames.popleft()


class Mixer:
    def __init__(self, sinks: Sequence[Sink]) -> None:
        self._sinks = list(sinks)
        self._voices: list[Voice] = []
        self._tones = Voice("tones", prebuffer=1, maxlen=MAX_TONE_FRAMES)
        self._wake = asyncio.Event()

    def add_voice(self, name: str, prebuffer: int = 2) -> Voice:
        voice = Voice(name, prebuffer)
        self._voices.append(voice)
        return voice

    def remove_voice(self, voice: Voice) -> None:
        if voice in self._voices:
            self._voices.remove(voice)

    def notify(self) -> None:
        """A voice got frames: wake the tick loop if it sleeps."""
        self._wake.set()

    def play_tone(self, samples: Samples) -> None:
        if self._tones.queued + len(samples) / FRAME_SAMPLES > MAX_TONE_FRAMES:
            log.warning("audio.tone_dropped", reason="too many tones queued")
            return
        padded = np.zeros(-(-len(samples) // FRAME_SAMPLES) * FRAME_SAMPLES, dtype=np.int16)
        padded[: len(samples)] = samples
        self._tones.push(padded)
        self.notify()

    async def run(self) -> None:
        pacer = Pacer()
        while True:
            self._voices = [v for v in self._voices if not (v.finished and not v.queued)]
            voices = [*self._voices, self._tones]
            if not any(v.ready for v in voices):
                pacer.reset()  # start a fresh 20 ms grid when audio resumes
                self._wake.clear()
                await self._wake.wait()
                continue
            await pacer.next_frame()
            frames = [f for v in voices if (f := v.pull()) is not None]
            if frames:
                self._emit(frames)

    def _emit(self, frames: list[Samples]) -> None:
        if len(frames) == 1:
            block = frames[0]
        else:
            total = np.sum(np.stack(frames).astype(np.int32), axis=0)
            block = np.clip(total, -32768, 32767).astype(np.int16)
        for sink in list(self._sinks):
            try:
                sink.write(block)
            except Exception:
                # A broken sink (disk full, device gone) must not silence the others.
                log.exception("audio.sink_failed", sink=type(sink).__name__)
                self._sinks.remove(sink)
