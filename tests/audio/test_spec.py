from pathlib import Path

import pytest

from adapters.devices.audio import DeviceSpec, ToneSpec, WavSpec, parse_source
from adapters.devices.audio.spec import DEFAULT_TONE_DBFS
from fsm.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tone:440", ToneSpec(440.0, DEFAULT_TONE_DBFS)),
        ("tone:440:-20dB", ToneSpec(440.0, -20.0)),
        ("TONE:1000.5:-6dbfs", ToneSpec(1000.5, -6.0)),
        ("tone:440:-3", ToneSpec(440.0, -3.0)),
        ("voice.wav", WavSpec(Path("voice.wav"))),
        ("/tmp/A Clip.WAV", WavSpec(Path("/tmp/A Clip.WAV"))),
        ("device", DeviceSpec(None)),
        ("device:3", DeviceSpec(3)),
        ("device:USB Audio", DeviceSpec("USB Audio")),
        ("device:hw:1,0", DeviceSpec("hw:1,0")),  # only the first colon separates
    ],
)
def test_parses(text: str, expected: object) -> None:
    assert parse_source(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "unknown audio source"),
        ("mic", "unknown audio source"),
        ("clip.mp3", "unknown audio source"),
        ("tone", "number of Hz"),
        ("tone:abc", "number of Hz"),
        ("tone:0", "between 0 and 24000"),
        ("tone:30000", "between 0 and 24000"),
        ("tone:440:loud", "look like -12dB"),
        ("tone:440:+6dB", "at most 0 dBFS"),
        ("device:", "empty device name"),
    ],
)
def test_rejects_with_config_error(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_source(text)
