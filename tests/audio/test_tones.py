"""(6) Feedback tones: distinct, written to the file sink, never blocking or raising."""

import asyncio
import itertools
import wave
from pathlib import Path

import numpy as np
import pytest

from adapters.devices.audio import SoundDeviceAudio, dominant_frequency
from adapters.devices.audio.tones import BEEPS, tone_samples
from fsm.ports import Tone

from .conftest import StereoToneTrack, closed, start


def read_samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels()) == (48000, 1)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_tones_are_short_and_distinct() -> None:
    assert set(BEEPS) == set(Tone)
    for tone in Tone:
        assert 0.1 <= len(tone_samples(tone)) / 48000 <= 0.4
    for a, b in itertools.combinations(Tone, 2):
        x, y = tone_samples(a), tone_samples(b)
        assert len(x) != len(y) or not np.array_equal(x, y), (a, b)


async def test_tone_is_written_to_the_file_sink(tmp_path: Path) -> None:
    out = tmp_path / "heard.wav"
    audio = SoundDeviceAudio("tone:440", output=False, wav_path=out)
    assert (await start(audio)).ok
    audio.play_tone(Tone.TALK_PERMITTED)
    await asyncio.sleep(0.3)
    audio.stop()
    await closed(audio)

    expected = tone_samples(Tone.TALK_PERMITTED)
    heard = read_samples(out)
    assert len(heard) == -(-len(expected) // 960) * 960  # whole 20 ms blocks, zero padded
    assert np.array_equal(heard[: len(expected)], expected)
    first, second = heard[: int(0.06 * 48000)], heard[int(0.09 * 48000) : int(0.15 * 48000)]
    assert dominant_frequency(first) == pytest.approx(880, abs=3)  # rising: 880 then 1320
    assert dominant_frequency(second) == pytest.approx(1320, abs=3)


async def test_tone_is_mixed_over_received_audio(tmp_path: Path) -> None:
    out = tmp_path / "heard.wav"
    audio = SoundDeviceAudio("tone:440", output=False, wav_path=out)
    assert (await start(audio)).ok
    audio.play(StereoToneTrack(300, -12))
    await asyncio.sleep(0.1)
    audio.play_tone(Tone.LINK_LOST)  # 880, 660, 440 Hz
    await asyncio.sleep(0.4)
    audio.stop()
    await closed(audio)

    heard = read_samples(out).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(heard))
    bins = {f: spectrum[round(f * len(heard) / 48000)] for f in (300, 880, 660, 440, 1000)}
    for freq in (300, 880, 660):  # the received tone and the beeps, all in one file
        assert bins[freq] > 50 * bins[1000], freq


async def test_play_tone_never_raises() -> None:
    audio = SoundDeviceAudio("tone:440", output=False)
    audio.play_tone(Tone.FLOOR_DENIED)  # before start: dropped with a log line
    assert (await start(audio)).ok
    audio.play_tone("no such tone")  # type: ignore[arg-type]
    for tone in Tone:
        audio.play_tone(tone)  # more than the queue takes: the excess is dropped
    audio.stop()
    audio.play_tone(Tone.LINK_RESTORED)  # after stop: dropped
    await closed(audio)
