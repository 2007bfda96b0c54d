"""(2) WAV source round trip and (3) the WAV file sink."""

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from adapters.devices.audio import MemoryTap, SoundDeviceAudio, dominant_frequency, rms_dbfs
from fsm.errors import DeviceError

from .conftest import StereoToneTrack, closed, start


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def read_wav(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        return w.getparams(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


async def test_wav_source_round_trip(tmp_path: Path) -> None:
    """A 44.1 kHz stereo 660 Hz clip -> microphone frames -> played into a WAV sink."""
    rate, n = 44100, 44100 // 5  # 200 ms, shorter than what we read: it must loop
    t = np.arange(n) / rate
    tone = np.round(0.25 * 32767 * np.sin(2 * np.pi * 660 * t))
    clip = tmp_path / "clip.wav"
    write_wav(clip, np.stack([tone, tone], axis=1).reshape(-1), rate, channels=2)

    out = tmp_path / "heard.wav"
    audio = SoundDeviceAudio(str(clip), output=False, wav_path=out)
    assert (await start(audio)).ok
    mic = audio.microphone_track()
    frames = [await mic.recv() for _ in range(20)]  # 400 ms: twice the clip
    audio.play(mic)  # hear our own microphone: the file gets the clip back
    await asyncio.sleep(0.3)
    audio.stop()
    await closed(audio)

    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    assert all(f.sample_rate == 48000 and f.samples == 960 for f in frames)
    assert dominant_frequency(samples) == pytest.approx(660, abs=1)
    assert rms_dbfs(samples[960:]) == pytest.approx(20 * np.log10(0.25) - 3.01, abs=0.3)
    assert rms_dbfs(samples[-4800:]) > -20  # still sounding after the clip's end: looped

    params, heard = read_wav(out)
    assert (params.framerate, params.nchannels, params.sampwidth) == (48000, 1, 2)
    assert len(heard) >= 0.15 * 48000
    assert dominant_frequency(heard) == pytest.approx(660, abs=1)


async def test_unreadable_wav_source_is_a_device_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("not a wav")
    for path in (bad, tmp_path / "missing.wav"):
        result = await start(SoundDeviceAudio(str(path), output=False))
        assert isinstance(result.error, DeviceError)
        assert str(path) in str(result.error)
        assert "path" in result.error.guidance


async def test_file_sink_is_a_valid_wav_while_and_after_writing(tmp_path: Path) -> None:
    out = tmp_path / "heard.wav"
    tap = MemoryTap()
    audio = SoundDeviceAudio("tone:440", output=False, wav_path=out, tap=tap)
    assert (await start(audio)).ok
    params, _ = read_wav(out)  # valid before anything was heard
    assert (params.framerate, params.nchannels, params.nframes) == (48000, 1, 0)

    remote = StereoToneTrack(523.25, -6.0)  # what aiortc delivers: s16 stereo 48 kHz
    audio.play(remote)
    await asyncio.sleep(0.5)
    params, during = read_wav(out)  # read by another reader while still being written
    assert params.nframes == len(during) >= 0.3 * 48000
    assert dominant_frequency(during) == pytest.approx(523.25, abs=1)

    audio.stop_playing(remote)
    await asyncio.sleep(0.1)
    size_after_stop_playing = read_wav(out)[0].nframes
    await asyncio.sleep(0.1)
    assert read_wav(out)[0].nframes == size_after_stop_playing  # silence is not recorded
    audio.stop()
    await closed(audio)

    params, after = read_wav(out)
    assert (params.framerate, params.nchannels, params.sampwidth) == (48000, 1, 2)
    assert len(after) == size_after_stop_playing
    assert len(after) % 960 == 0
    assert dominant_frequency(after) == pytest.approx(523.25, abs=1)
    assert rms_dbfs(after) == pytest.approx(-6 - 3.01, abs=0.2)  # stereo mean = the mono tone
    assert np.array_equal(after, tap.samples())  # every sink got the same blocks
