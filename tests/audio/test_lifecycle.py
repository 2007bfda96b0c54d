"""(5) device errors come through the reply; (7) stop() leaves nothing running."""

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from adapters.devices.audio import SoundDeviceAudio, portaudio
from fsm.errors import DeviceError, UsageError
from fsm.ports import Tone
from tests.jack import jack_ports

from .conftest import StereoToneTrack, closed, other_tasks, other_threads, start


async def test_stop_leaves_no_task_or_thread(
    tmp_path: Path, thread_baseline: set[threading.Thread]
) -> None:
    audio = SoundDeviceAudio("tone:440", output=False, wav_path=tmp_path / "h.wav")
    assert (await start(audio)).ok
    mic = audio.microphone_track()
    remote = StereoToneTrack(300, -12)
    audio.play(remote)
    audio.play_tone(Tone.FLOOR_LOST)
    await asyncio.sleep(0.1)
    assert other_tasks()  # the mixer and the player run meanwhile
    audio.stop()
    await closed(audio)
    assert other_tasks() == set()
    assert other_threads(thread_baseline) == []
    assert mic.readyState == "ended"
    assert remote.readyState == "live"  # not ours to end: the transports adapter owns it
    assert not audio.running
    audio.stop()  # idempotent


@pytest.mark.audio
async def test_stop_during_start_releases_the_device(
    jack: None, thread_baseline: set[threading.Thread]
) -> None:
    before = set(jack_ports())
    audio = SoundDeviceAudio("device", output=True)
    replies: list[object] = []
    audio.start(replies.append)
    await asyncio.sleep(0)  # the opening thread is on its way into PortAudio
    audio.stop()
    await closed(audio)
    await asyncio.sleep(0.05)
    assert replies == []  # a cancelled start reports nothing
    assert other_tasks() == set()
    assert other_threads(thread_baseline) == []
    assert set(jack_ports()) == before  # the stream opened meanwhile was closed


@pytest.mark.audio
@pytest.mark.parametrize(
    ("source", "output_device", "needle"),
    [
        ("device:NoSuchMic", None, "no audio input device matching 'NoSuchMic'"),
        ("device:99", None, "no audio device with index 99"),
        ("tone:440", "NoSuchSpeaker", "no audio output device matching 'NoSuchSpeaker'"),
    ],
)
async def test_missing_device_is_a_device_error_through_the_reply(
    jack: None,
    thread_baseline: set[threading.Thread],
    source: str,
    output_device: str | None,
    needle: str,
) -> None:
    before = set(jack_ports())
    audio = SoundDeviceAudio(source, output=True, output_device=output_device)
    result = await start(audio)  # no exception: the error is the reply's
    assert isinstance(result.error, DeviceError)
    assert needle in str(result.error)
    assert "'system'" in str(result.error)  # it lists what does exist
    assert "python -m sounddevice" in result.error.guidance
    await closed(audio)
    assert not audio.running
    with pytest.raises(UsageError):
        audio.microphone_track()
    assert other_tasks() == set()
    assert other_threads(thread_baseline) == []
    assert set(jack_ports()) == before  # the input opened before the bad output was closed


async def test_missing_portaudio_library_is_a_device_error_with_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_portaudio() -> object:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(portaudio, "_module", None)
    monkeypatch.setattr(portaudio, "_import", no_portaudio)
    result = await start(SoundDeviceAudio("device:USB", output=False))
    assert isinstance(result.error, DeviceError)
    assert "PortAudio library not found" in str(result.error)
    assert "apt-get install libportaudio2" in result.error.guidance


def test_synthetic_source_and_file_sink_never_import_sounddevice(tmp_path: Path) -> None:
    """A bot's setup, in a process where ``import sounddevice`` fails as without PortAudio."""
    script = f"""
import asyncio, sys, wave
class NoPortAudio:
    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
sys.meta_path.insert(0, NoPortAudio())
from adapters.devices.audio import SoundDeviceAudio
from fsm.ports import Tone

async def main():
    audio = SoundDeviceAudio("tone:440", output=False, wav_path={str(tmp_path / "h.wav")!r})
    done = asyncio.get_running_loop().create_future()
    audio.start(done.set_result)
    result = await done
    assert result.ok, result
    audio.play(audio.microphone_track())
    audio.play_tone(Tone.TALK_PERMITTED)
    await asyncio.sleep(0.2)
    await audio.aclose()
    assert "sounddevice" not in sys.modules
    with wave.open({str(tmp_path / "h.wav")!r}) as w:
        assert w.getnframes() > 0
    print("OK")

asyncio.run(main())
"""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("OK")
