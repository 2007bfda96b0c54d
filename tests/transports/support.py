"""Real aiortc peers for the SFU media tests: an in-process signaling stand-in for the
server's dispatcher, a tone microphone and a recording speaker. No aiortc is mocked."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from adapters.backends.reference.protocol import (
    CLOSE_CONSUMER,
    CONNECT_TRANSPORT,
    CONSUME,
    CREATE_TRANSPORT,
    GET_CAPABILITIES,
    PRODUCE,
)
from adapters.server.sfu import AiortcRouter, MediaError
from fsm.domain import AudioSource
from fsm.errors import PttError, RequestFailed, TransportError
from fsm.ports import Reply, Result

RATE = 48000
FRAME = 960  # 20 ms


class RouterRequester:
    """Calls the router the way the server's dispatcher would; ``fail`` injects errors."""

    def __init__(self, router: AiortcRouter, peer_id: str) -> None:
        self.router = router
        self.peer_id = peer_id
        self.calls: list[str] = []
        self.fail: dict[str, PttError] = {}
        self.capabilities: dict[str, Any] | None = None  # None: the router's own

    async def call(
        self,
        method: str,
        data: Mapping[str, Any],
        timeout: float | None = None,  # noqa: ASYNC109 (the Requester protocol's signature)
    ) -> dict[str, Any]:
        self.calls.append(method)
        await asyncio.sleep(0)  # a real link never answers synchronously
        if method in self.fail:
            raise self.fail[method]
        r, peer = self.router, self.peer_id
        try:
            if method == GET_CAPABILITIES:
                return r.capabilities() if self.capabilities is None else self.capabilities
            if method == CREATE_TRANSPORT:
                return await r.create_transport(peer, data["direction"])
            if method == CONNECT_TRANSPORT:
                return await r.connect_transport(
                    peer, data["transport_id"], data["sdp"], data["type"]
                )
            if method == PRODUCE:
                return await r.produce(peer, data["transport_id"], data["kind"])
            if method == CONSUME:
                return await r.consume(
                    peer, data["transport_id"], data["producer_id"], data["sdp"], data["type"]
                )
            if method == CLOSE_CONSUMER:
                await r.close_consumer(peer, data["consumer_id"])
                return {}
        except MediaError as exc:
            raise RequestFailed(method, message=exc.message, code=exc.code) from exc
        raise RequestFailed(method, code="unknown_method")


class SineTrack(MediaStreamTrack):
    """A real-time paced mono tone (``freq=0``: silence), 20 ms frames at 48 kHz."""

    kind = "audio"

    def __init__(self, freq: float) -> None:
        super().__init__()
        self.freq = freq
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME
            await asyncio.sleep(self._start + self._pts / RATE - time.monotonic())
        t = (np.arange(FRAME) + self._pts) / RATE
        samples = (np.sin(2 * np.pi * self.freq * t) * 8000).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        return frame


class ToneAudio:
    """``AudioIO`` with a tone microphone and a speaker that records what each track plays."""

    def __init__(self, freq: float = 0.0) -> None:
        self.freq = freq
        self.mics: list[SineTrack] = []
        self.frames: dict[MediaStreamTrack, list[AudioFrame]] = {}
        self.stopped: list[MediaStreamTrack] = []
        self._readers: dict[MediaStreamTrack, asyncio.Task[None]] = {}

    def microphone_track(self) -> MediaStreamTrack:
        self.mics.append(SineTrack(self.freq))
        return self.mics[-1]

    def play(self, track: MediaStreamTrack) -> None:
        self.frames[track] = []
        self._readers[track] = asyncio.get_running_loop().create_task(self._read(track))

    def stop_playing(self, track: MediaStreamTrack) -> None:
        self.stopped.append(track)
        reader = self._readers.pop(track, None)
        if reader is not None:
            reader.cancel()

    async def _read(self, track: MediaStreamTrack) -> None:
        frames = self.frames[track]
        try:
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                frames.append(frame)
        except MediaStreamError:
            pass

    def received(self) -> int:
        return sum(len(frames) for frames in self.frames.values())

    def left_channel(self, last: int) -> np.ndarray:
        """The left channel of the last ``last`` frames received (on any track)."""
        frames = [f for track in self.frames.values() for f in track[-last:]]
        return np.concatenate([f.to_ndarray()[0, ::2] for f in frames]).astype(np.float64)

    async def aclose(self) -> None:
        readers = list(self._readers.values())
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for mic in self.mics:
            mic.stop()


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


class Events:
    """``MediaEvents`` that records failures and the time they arrived."""

    def __init__(self) -> None:
        self.failures: list[tuple[float, TransportError]] = []
        self.arrived = asyncio.Event()

    def failed(self, error: TransportError) -> None:
        self.failures.append((time.monotonic(), error))
        self.arrived.set()


async def outcome(start: Callable[[Reply], None], within: float = 10.0) -> Result[Any]:
    """Start a port operation, await its reply; fail if it replied synchronously."""
    future: asyncio.Future[Result[Any]] = asyncio.get_running_loop().create_future()
    inside = True

    def reply(result: Result[Any]) -> None:
        assert not inside, "a port replied synchronously from inside the call"
        assert not future.done(), "a port replied twice"
        future.set_result(result)

    start(reply)
    inside = False
    return await asyncio.wait_for(future, within)


async def until(condition: Callable[[], bool], within: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


def sources(ids: Iterable[str]) -> list[AudioSource]:
    """The port's view of producers: one remote audio source each."""
    return [AudioSource(source_id) for source_id in ids]
