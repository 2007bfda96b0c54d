"""Shared helpers for the audio adapter tests: start/stop, tracks, JACK ports."""

from __future__ import annotations

import asyncio
import subprocess
import threading

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack
from av.frame import Frame

from adapters.devices.audio import RATE, SoundDeviceAudio, ToneSource
from fsm.ports import Result
from tests.jack import jack_running


async def start(audio: SoundDeviceAudio) -> Result:
    """``audio.start`` and its reply, checking the reply never comes synchronously."""
    reply: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
    audio.start(reply.set_result)
    assert not reply.done(), "start() must report later, never from inside the call"
    async with asyncio.timeout(5):
        return await reply


async def closed(audio: SoundDeviceAudio) -> None:
    """``wait_closed`` bounded in time: a task that ignores stop() fails the test, not CI."""
    async with asyncio.timeout(3):
        await audio.wait_closed()


class StereoToneTrack(MediaStreamTrack):
    """What aiortc hands a receiver: s16 *stereo* 48 kHz frames (here a paced sine)."""

    kind = "audio"

    def __init__(self, frequency: float, level_dbfs: float) -> None:
        super().__init__()
        self._source = ToneSource(frequency, level_dbfs)

    async def recv(self) -> Frame:
        pts, mono = await self._source.read()
        stereo = np.repeat(mono, 2).reshape(1, -1)  # interleaved L R L R ...
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = pts
        return frame


def other_threads(baseline: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in baseline and t.is_alive()]


def other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


@pytest.fixture
def thread_baseline() -> set[threading.Thread]:
    return set(threading.enumerate())


# --- JACK ------------------------------------------------------------------------------
@pytest.fixture
def jack() -> None:
    if not jack_running():
        pytest.skip("no JACK server: run .ci/audio-up.sh (jackd dummy backend) first")


def jack_connections(port: str) -> set[str]:
    out = subprocess.run(["jack_lsp", "-c", port], capture_output=True, text=True, check=True)
    return {line.strip() for line in out.stdout.splitlines()[1:] if line.strip()}
