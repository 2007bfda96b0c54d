"""The only place that imports ``sounddevice``, lazily, and the device lookup.

``import sounddevice`` loads the PortAudio C library and raises ``OSError`` when it is not
installed (Debian's wheel does not bundle it): a bot with a synthetic source and a file
sink must never pay for, or fail on, that import, so nothing imports it at module level.
PortAudio enumerates host APIs once, at that import: a JACK server or USB headset that
appears later is not seen until the process restarts.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from fsm.errors import DeviceError

from .spec import parse_device

Direction = Literal["input", "output"]

INSTALL_GUIDANCE = (
    "install the PortAudio library (Debian/Ubuntu: `apt-get install libportaudio2`, "
    "Fedora: `dnf install portaudio`, macOS: `brew install portaudio`), or use a "
    "synthetic source ('tone:440' or a .wav file) without device output"
)
PICK_GUIDANCE = (
    "list the devices with `python -m sounddevice` and pick one by index or by a "
    "substring of its name: source 'device:USB' or 'device:3' for the microphone, "
    "output device 'USB' or 3 for the speaker"
)
OPEN_GUIDANCE = (
    "check that the device is connected, that no other program holds it exclusively "
    "and that this process may open it (on Linux: membership of the `audio` group)"
)

_module: Any = None

# Open streams stay referenced here until closed. A stream, its callback and our source
# form a cycle; if the garbage collector freed it while PortAudio still calls the callback,
# the process would crash. Forgetting stop() leaks the stream instead (PortAudio closes it
# at exit).
_open_streams: set[Any] = set()


def keep_open(stream: Any) -> None:
    _open_streams.add(stream)


def close_stream(stream: Any) -> None:
    """Close (pending buffers are discarded) and forget a stream; never raises."""
    _open_streams.discard(stream)
    stream.close(ignore_errors=True)


def _import() -> Any:
    return importlib.import_module("sounddevice")


def sounddevice() -> Any:
    """The ``sounddevice`` module, or a :class:`DeviceError` telling how to install it."""
    global _module  # noqa: PLW0603 -- one import per process, cached like sys.modules would
    if _module is None:
        try:
            _module = _import()
        except OSError as exc:  # "PortAudio library not found"
            raise DeviceError(f"cannot load PortAudio: {exc}", guidance=INSTALL_GUIDANCE) from exc
        except ImportError as exc:
            raise DeviceError(
                f"cannot import sounddevice: {exc}", guidance="pip install sounddevice"
            ) from exc
    return _module


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    default_input: bool
    default_output: bool

    def __str__(self) -> str:
        marks = ("<" if self.default_input else " ") + (">" if self.default_output else " ")
        return (
            f"{marks} {self.index:3d} {self.name} ({self.hostapi}, "
            f"{self.max_input_channels} in, {self.max_output_channels} out)"
        )


def list_devices() -> list[DeviceInfo]:
    """Every PortAudio device; raises :class:`DeviceError` if PortAudio is missing."""
    sd = sounddevice()
    hostapis = sd.query_hostapis()
    default_in, default_out = _defaults(sd)
    return [
        DeviceInfo(
            index=int(d["index"]),
            name=str(d["name"]),
            hostapi=str(hostapis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            max_output_channels=int(d["max_output_channels"]),
            default_samplerate=float(d["default_samplerate"]),
            default_input=d["index"] == default_in,
            default_output=d["index"] == default_out,
        )
        for d in sd.query_devices()
    ]


def find_device(selector: int | str | None, direction: Direction) -> DeviceInfo:
    """Resolve a device index, a name substring (case-insensitive) or ``None`` (the default).

    Raises :class:`DeviceError` naming the candidates when nothing or several devices match,
    so the user can fix the selector from the message alone.
    """
    selector = parse_device(selector)
    devices = list_devices()
    usable = [d for d in devices if _channels(d, direction) > 0]
    if not usable:
        raise DeviceError(f"no audio {direction} device found", guidance=OPEN_GUIDANCE)
    if selector is None:
        for d in usable:
            if d.default_input if direction == "input" else d.default_output:
                return d
        raise DeviceError(f"no default audio {direction} device", guidance=PICK_GUIDANCE)
    if isinstance(selector, int):
        for d in devices:
            if d.index == selector:
                if _channels(d, direction) == 0:
                    raise DeviceError(
                        f"device {selector} ({d.name}) has no {direction} channels",
                        guidance=PICK_GUIDANCE,
                    )
                return d
        raise DeviceError(
            f"no audio device with index {selector}; {direction} devices: {_names(usable)}",
            guidance=PICK_GUIDANCE,
        )
    wanted = selector.casefold()
    exact = [d for d in usable if d.name.casefold() == wanted]
    matches = exact or [d for d in usable if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise DeviceError(
            f"no audio {direction} device matching {selector!r}; "
            f"{direction} devices: {_names(usable)}",
            guidance=PICK_GUIDANCE,
        )
    raise DeviceError(
        f"{selector!r} matches several {direction} devices: {_names(matches)}",
        guidance=PICK_GUIDANCE,
    )


def open_error(device: DeviceInfo, direction: Direction, exc: Exception) -> DeviceError:
    """PortAudio refused to open the device: the analogue of "permission denied"."""
    return DeviceError(
        f"cannot open audio {direction} device {device.index} ({device.name}): {exc}",
        guidance=OPEN_GUIDANCE,
    )


def _defaults(sd: Any) -> tuple[int, int]:
    default_in, default_out = sd.default.device
    # sounddevice reports "unset" as -1; it then means PortAudio's own default.
    if default_in is None or default_in < 0:
        default_in = _host_default(sd, "default_input_device")
    if default_out is None or default_out < 0:
        default_out = _host_default(sd, "default_output_device")
    return int(default_in), int(default_out)


def _host_default(sd: Any, key: str) -> int:
    try:
        return int(sd.query_hostapis(sd.default.hostapi)[key])
    except Exception:  # no host API at all: PortAudio found no sound system
        return -1


def _channels(d: DeviceInfo, direction: Direction) -> int:
    return d.max_input_channels if direction == "input" else d.max_output_channels


def _names(devices: list[DeviceInfo]) -> str:
    return ", ".join(f"{d.index} {d.name!r}" for d in devices) or "none"
