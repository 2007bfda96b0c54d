"""The ports: everything the machine drives, as small ``typing.Protocol``s.

Every long operation is *started* by a port call and *reported* later through a callback
the machine hands in (a :data:`Reply` or an events object). Port calls return at once, so
no transition action ever waits on the network; the machine binds each callback to the
operation it started, so a late report from a cancelled operation is dropped in the core.

Rules for implementers (``adapters/`` and your own):
- never call a callback synchronously from inside the port method; schedule it;
- after ``close()``/``cancel()`` no further callback of that operation matters (it is
  dropped), but stop the I/O promptly: no task or socket may outlive it;
- call callbacks on the event loop thread only (hop with ``call_soon_threadsafe``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from .errors import LinkError, PttError, TransportError


@dataclass(frozen=True)
class Result:
    """The outcome of a started operation: a value, or a typed error."""

    value: Any = None
    error: PttError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


Reply = Callable[[Result], None]


class Timer(Protocol):
    def cancel(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """Monotonic time and one-shot timers (``adapters.clock.LoopClock``, ``FakeClock``)."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...


class LinkEvents(Protocol):
    """What one signaling link reports back; bound by the machine to that link."""

    def opened(self) -> None: ...

    def failed(self, error: LinkError) -> None: ...

    def lost(self, error: LinkError) -> None: ...

    def notification(self, method: str, data: Mapping[str, Any]) -> None: ...


@runtime_checkable
class Signaling(Protocol):
    """JSON request/response over one link (``adapters.signaling.WebSocketSignaling``)."""

    def open(self, url: str, token: str, events: LinkEvents) -> None:
        """Start opening a link; report ``opened`` or ``failed`` (then ``lost`` once)."""

    def request(self, method: str, data: Mapping[str, Any], reply: Reply) -> None:
        """Send a request; ``reply`` gets the response data or a typed error, exactly once."""

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the link (or abort the open in progress) after flushing queued requests."""


class MediaEvents(Protocol):
    def failed(self, error: TransportError) -> None: ...


@runtime_checkable
class Transports(Protocol):
    """One send and one recv WebRTC transport (``adapters.transports.AiortcTransports``)."""

    def create(self, capabilities: Mapping[str, Any], events: MediaEvents, reply: Reply) -> None:
        """Create and connect both transports through signaling."""

    def produce(self, reply: Reply) -> None:
        """Produce the microphone on the send transport, paused."""

    def consume(self, producers: Sequence[str], reply: Reply) -> None:
        """Hold exactly one consumer per listed producer (create missing, close the rest)."""

    def set_transmitting(self, on: bool) -> None:
        """Resume (floor granted) or pause the microphone producer."""

    def expect_audio(self, on: bool) -> None:
        """Arm the receive-side liveness check while a remote speaker holds the floor."""

    def is_alive(self) -> bool:
        """True while both transports exist and their media path is believed alive."""

    def close(self) -> None:
        """Close both transports, the producer and every consumer."""


class Tone(StrEnum):
    TALK_PERMITTED = "talk_permitted"
    FLOOR_DENIED = "floor_denied"
    FLOOR_LOST = "floor_lost"
    LINK_LOST = "link_lost"
    LINK_RESTORED = "link_restored"


@runtime_checkable
class Audio(Protocol):
    """Microphone, playback and feedback tones (``adapters.audio``)."""

    def start(self, reply: Reply) -> None:
        """Open the input and output devices; a missing device reports a ``DeviceError``."""

    def stop(self) -> None:
        """Release the devices."""

    def play_tone(self, tone: Tone) -> None: ...


@runtime_checkable
class TokenSource(Protocol):
    """Gets a fresh token once a 401 says ours is no good (wraps the app's provider)."""

    def refresh(self, reply: Reply) -> None: ...

    def cancel(self) -> None: ...


@dataclass(frozen=True)
class Ports:
    """The adapters one machine drives. ``transports``/``audio`` ``None`` = signaling only."""

    signaling: Signaling
    clock: Clock
    transports: Transports | None = None
    audio: Audio | None = None
    tokens: TokenSource | None = None
