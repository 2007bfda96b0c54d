"""Parsing the microphone source spec (``--source`` on the CLI, ``source=`` in code)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fsm.errors import ConfigError

from .frames import RATE

DEFAULT_TONE_DBFS = -12.0

FORMS = (
    "'device' (default input), 'device:NAME' (name substring) or 'device:INDEX', "
    "'tone:HZ' or 'tone:HZ:-12dB' (sine, peak level in dBFS), or a path ending in .wav"
)


@dataclass(frozen=True)
class ToneSpec:
    """A sine: ``level_dbfs`` is its peak (its RMS is 3 dB lower)."""

    frequency: float
    level_dbfs: float = DEFAULT_TONE_DBFS


@dataclass(frozen=True)
class WavSpec:
    """A WAV file, played in a loop as if it were a live microphone."""

    path: Path


@dataclass(frozen=True)
class DeviceSpec:
    """A PortAudio input device: ``None`` = the default one, else an index or name substring."""

    device: int | str | None = None


SourceSpec = ToneSpec | WavSpec | DeviceSpec

_LEVEL = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:db|dbfs)?$", re.IGNORECASE)


def parse_source(spec: str) -> SourceSpec:
    """``"tone:440"``, ``"tone:440:-12dB"``, ``"voice.wav"``, ``"device"``, ``"device:USB"``,
    ``"device:3"``. Raises :class:`~fsm.errors.ConfigError` for anything else."""
    text = spec.strip()
    kind, sep, rest = text.partition(":")
    if kind.lower() == "tone":
        return _parse_tone(spec, rest)
    if kind.lower() == "device":
        # Only the first colon separates: device names contain colons ("hw:1,0").
        if sep and not rest.strip():
            raise ConfigError(f"source {spec!r}: empty device name; use 'device' for the default")
        return DeviceSpec(parse_device(rest) if sep else None)
    if text.lower().endswith((".wav", ".wave")):
        return WavSpec(Path(text).expanduser())
    raise ConfigError(f"unknown audio source {spec!r}; expected {FORMS}")


def parse_device(text: str | int | None) -> int | str | None:
    """A device selector: digits are an index, anything else a name substring."""
    if text is None or isinstance(text, int):
        return text
    text = text.strip()
    return int(text) if text.isdigit() else text or None


def _parse_tone(spec: str, rest: str) -> ToneSpec:
    freq_text, _, level_text = rest.partition(":")
    try:
        frequency = float(freq_text)
    except ValueError:
        raise ConfigError(f"source {spec!r}: tone frequency must be a number of Hz") from None
    if not 0 < frequency < RATE / 2:
        raise ConfigError(f"source {spec!r}: tone frequency must be between 0 and {RATE // 2} Hz")
    if not level_text:
        return ToneSpec(frequency)
    match = _LEVEL.match(level_text.strip())
    if match is None:
        raise ConfigError(f"source {spec!r}: tone level must look like -12dB")
    level = float(match.group(1))
    if level > 0:
        raise ConfigError(f"source {spec!r}: tone level must be at most 0 dBFS (full scale)")
    return ToneSpec(frequency, level)
