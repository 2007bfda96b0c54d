"""Audio for ptt-fsm: microphone capture, playback and feedback tones.

:class:`SoundDeviceAudio` implements :class:`fsm.ports.Audio` and gives the aiortc
transports adapter a microphone track (:meth:`~SoundDeviceAudio.microphone_track`) and a
way to hear received tracks (:meth:`~SoundDeviceAudio.play`). Inside, all audio is 48 kHz
mono 16-bit in 20 ms frames. ``sounddevice`` (PortAudio) is imported only when a real
device is used, so bots and CI can run with a synthetic source and a WAV sink without it.

Choosing devices (README)
-------------------------
The microphone is the ``--source``: ``device`` uses the system's default input,
``device:NAME`` the input device whose name contains NAME (case-insensitive, e.g.
``device:USB``), ``device:3`` the device with index 3. The speaker is picked the same
way with ``--output-device NAME_OR_INDEX`` (default: the system's default output).
``python -m sounddevice`` (or :func:`list_devices`) prints every device with its index;
``>`` and ``<`` mark the default output and input. A name matching several devices is an
error that lists them: use a longer substring or the index. Without a microphone, use
``--source tone:440`` (a sine; ``tone:440:-20dB`` sets its peak level) or
``--source clip.wav`` (any WAV, played in a loop); ``--sink heard.wav`` writes
everything heard, feedback tones included, to a WAV file that stays valid while written.
On Linux PortAudio needs ``apt-get install libportaudio2``; devices plugged in (or a
JACK server started) after the process began are not seen until it restarts.
"""

from .adapter import SoundDeviceAudio
from .analysis import dominant_frequency, rms_dbfs, sine
from .frames import FRAME_SAMPLES, RATE
from .portaudio import DeviceInfo, list_devices
from .sinks import MemoryTap, WavSink
from .sources import ToneSource, WavSource
from .spec import DeviceSpec, SourceSpec, ToneSpec, WavSpec, parse_source
from .track import MicrophoneTrack

__all__ = [
    "FRAME_SAMPLES",
    "RATE",
    "DeviceInfo",
    "DeviceSpec",
    "MemoryTap",
    "MicrophoneTrack",
    "SoundDeviceAudio",
    "SourceSpec",
    "ToneSource",
    "ToneSpec",
    "WavSink",
    "WavSource",
    "WavSpec",
    "dominant_frequency",
    "list_devices",
    "parse_source",
    "rms_dbfs",
    "sine",
]
