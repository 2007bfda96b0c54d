"""(4) Real PortAudio streams on the JACK dummy device, looped back with jack_connect."""

import asyncio
import threading

import numpy as np
import pytest

from adapters.devices.audio import SoundDeviceAudio, dominant_frequency, list_devices, rms_dbfs
from tests.jack import jack_ports

from .conftest import (
    StereoToneTrack,
    closed,
    jack_connections,
    other_tasks,
    other_threads,
    start,
)

pytestmark = pytest.mark.audio


async def test_played_tone_is_captured_through_the_microphone(
    jack: None, thread_baseline: set[threading.Thread]
) -> None:
    assert any(d.hostapi.startswith("JACK") for d in list_devices())
    before = set(jack_ports())
    audio = SoundDeviceAudio("device", output=True)
    assert (await start(audio)).ok

    # PortAudio registers its ports under a client named after it ("PortAudio", or
    # "PortAudio-01" if that name is taken): find ours as the ports that just appeared.
    ours = {name: props for name, props in jack_ports().items() if name not in before}
    inputs = sorted(n for n, props in ours.items() if "input" in props)
    outputs = sorted(n for n, props in ours.items() if "output" in props)
    assert len(inputs) == 1, ours  # mono capture
    assert len(outputs) == 2, ours  # stereo playback (mono duplicated to both ears)
    assert jack_connections(inputs[0]) == {"system:capture_1"}  # PortAudio's auto-connect

    mic = audio.microphone_track()
    unrouted = np.concatenate([(await mic.recv()).to_ndarray().reshape(-1) for _ in range(5)])
    assert rms_dbfs(unrouted) < -90  # the dummy backend captures silence

    audio.play(StereoToneTrack(440, -12))  # received audio -> OutputStream
    connect = await asyncio.create_subprocess_exec("jack_connect", outputs[0], inputs[0])
    assert await connect.wait() == 0
    frames = [await mic.recv() for _ in range(40)]  # 0.8 s through the InputStream
    audio.stop()
    await closed(audio)

    assert all((f.samples, f.sample_rate, f.format.name) == (960, 48000, "s16") for f in frames)
    first = frames[0].pts
    assert first is not None
    assert [f.pts for f in frames] == [first + 960 * i for i in range(40)]
    heard = np.concatenate([f.to_ndarray().reshape(-1) for f in frames[-20:]])
    assert dominant_frequency(heard) == pytest.approx(440, abs=1)
    assert rms_dbfs(heard) == pytest.approx(-12 - 3.01, abs=1.0)  # unity gain loop
    assert set(jack_ports()) == before  # both streams closed: their ports are gone
    assert other_tasks() == set()
    assert other_threads(thread_baseline) == []
