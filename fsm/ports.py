"""The ports: everything the machine drives, as small ``typing.Protocol``s in the language
of the domain (join, floor, members, speaker, messages, media), never of a wire.

A backend (``adapters.backends.reference``, ``adapters.backends.janus`` or yours)
implements :class:`Signaling` and :class:`Media` for one kind of server and declares its
:class:`~fsm.domain.Features`; the devices implement :class:`Audio`, :class:`Clock` and
:class:`TokenSource`.

Every long operation is *started* by a port call and *reported* later through a callback
the machine hands in (a :data:`Reply` or an events object). Port calls return at once, so
no transition action ever waits on the network; the machine binds each callback to the
operation it started, so a late report from a cancelled operation is dropped in the core.

Rules for implementers:
- never call a callback synchronously from inside the port method; schedule it;
- every reply is called exactly once (a value or a typed :class:`~fsm.errors.PttError`);
- after ``close()`` no further callback of that link or media session matters (it is
  dropped), but stop the I/O promptly: no task or socket may outlive it;
- call callbacks on the event loop thread only (hop with ``call_soon_threadsafe``);
- translate your library's and your server's failures into :mod:`fsm.errors` types with a
  :class:`~fsm.errors.Cause` (``raise ... from exc``); hand the machine only validated
  :mod:`fsm.domain` values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from .domain import AudioSource, ChannelMessage, Features, FloorAnswer, FloorLost, Joined, Member
from .errors import LinkError, PttError, TransportError

T = TypeVar("T")


@dataclass(frozen=True)
class Result(Generic[T]):
    """The outcome of a started operation: a value, or a typed error."""

    value: T | None = None
    error: PttError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


Reply = Callable[[Result[Any]], None]


class Timer(Protocol):
    def cancel(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """Monotonic time and one-shot timers (``adapters.devices.clock.LoopClock``,
    ``fsm.testing.FakeClock``)."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...


class SignalingEvents(Protocol):
    """What one signaling link reports back; bound by the machine to that link.

    ``opened``, then the channel facts, then exactly one of ``failed`` (never opened) or
    ``lost`` (was open); nothing after that, nor after the machine closed the link."""

    def opened(self) -> None: ...

    def failed(self, error: LinkError) -> None: ...

    def lost(self, error: LinkError) -> None: ...

    def member_joined(self, member: Member) -> None: ...

    def member_left(self, peer_id: str) -> None: ...

    def speaker_changed(self, peer_id: str | None) -> None: ...

    def floor_lost(self, tx_id: str | None, why: FloorLost) -> None: ...

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        """The complete set of remote audio sources now (not a delta)."""

    def message(self, message: ChannelMessage) -> None: ...


@runtime_checkable
class Signaling(Protocol):
    """The session with the server: one link at a time, one channel on it."""

    def open(self, url: str, token: str, events: SignalingEvents) -> None:
        """Start opening a link; report ``opened`` or ``failed``, later ``lost`` once."""

    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        """Join ``channel`` (resuming ``resume_id`` if the server still keeps it); the reply
        gets a :class:`~fsm.domain.Joined`."""

    def request_floor(self, tx_id: str, reply: Reply) -> None:
        """Ask to talk as transmission ``tx_id``; the reply gets a
        :class:`~fsm.domain.FloorAnswer` (a deny is an answer, not an error)."""

    def release_floor(self, tx_id: str) -> None:
        """End transmission ``tx_id`` (fire and forget; idempotent on the server)."""

    def send_message(self, msg_id: str, data: Mapping[str, Any], reply: Reply) -> None:
        """Send ``data`` to the channel; the reply gets ``None`` once the server has it.
        ``msg_id`` names the message so the server can drop a resent duplicate."""

    def leave(self) -> None:
        """Leave the channel for good (the server may forget the session)."""

    def probe(self, timeout: float) -> None:
        """Check the open link now (e.g. an application ping); if the server does not
        answer within ``timeout`` seconds, drop the link and report ``lost``."""

    def close(self) -> None:
        """Close the link (or abort the open in progress) after flushing what is queued."""


class MediaEvents(Protocol):
    def failed(self, error: TransportError) -> None: ...


@runtime_checkable
class Media(Protocol):
    """The WebRTC media of one session, whatever its shape: an SFU with separate send and
    receive transports, or a mixer with one send-receive peer connection."""

    def connect(self, events: MediaEvents, reply: Reply) -> None:
        """Connect a fresh media path (whatever the server needs: capabilities,
        transports, an offer/answer)."""

    def attach_microphone(self, reply: Reply) -> None:
        """Start sending the microphone, muted until ``set_transmitting(True)``."""

    def follow(self, sources: Sequence[AudioSource], reply: Reply) -> None:
        """Receive exactly these remote sources (add missing ones, drop the rest)."""

    def set_transmitting(self, on: bool) -> None:
        """Unmute (floor granted) or mute the microphone."""

    def expect_audio(self, on: bool) -> None:
        """Arm the receive-side liveness check while a remote speaker holds the floor."""

    def is_alive(self) -> bool:
        """True while the media path exists and is believed alive."""

    def close(self) -> None:
        """Close the media path and everything on it."""


class Tone(StrEnum):
    TALK_PERMITTED = "talk_permitted"
    FLOOR_DENIED = "floor_denied"
    FLOOR_LOST = "floor_lost"
    LINK_LOST = "link_lost"
    LINK_RESTORED = "link_restored"


@runtime_checkable
class Audio(Protocol):
    """Microphone, playback and feedback tones (``adapters.devices.audio``)."""

    def start(self, reply: Reply) -> None:
        """Open the input and output devices; a missing device reports a ``DeviceError``."""

    def stop(self) -> None:
        """Release the devices."""

    def play_tone(self, tone: Tone) -> None: ...


@runtime_checkable
class TokenSource(Protocol):
    """Gets a fresh token once the server says ours is no good (wraps the app's provider)."""

    def refresh(self, reply: Reply) -> None: ...

    def cancel(self) -> None: ...


class NetworkChange(StrEnum):
    """What the operating system says about the path to the server."""

    UP = "up"  # connectivity that could reach the server came back (route/address appeared)
    ROUTE_CHANGED = "route_changed"  # the route to the server changed (new interface, roam)
    DOWN = "down"  # no usable route to the server any more


class NetworkEvents(Protocol):
    def changed(self, change: NetworkChange) -> None: ...


@runtime_checkable
class NetworkWatch(Protocol):
    """Tells the machine when the local network changes (``adapters.devices.network``).

    Reports are coalesced by the adapter (a burst of kernel notifications is one report);
    the machine debounces what is left and decides what a change means."""

    def start(self, host: str, events: NetworkEvents) -> None:
        """Start watching the path to ``host`` (a name or an address)."""

    def stop(self) -> None:
        """Stop watching; no report after this returns, no socket or task left."""


@dataclass(frozen=True)
class Ports:
    """The adapters one machine drives. ``media``/``audio`` ``None`` = signaling only.

    ``features`` is what the backend behind ``signaling`` and ``media`` supports."""

    signaling: Signaling
    clock: Clock
    media: Media | None = None
    audio: Audio | None = None
    tokens: TokenSource | None = None
    network: NetworkWatch | None = None
    features: Features = field(default_factory=Features)


__all__ = [
    "Audio",
    "AudioSource",
    "ChannelMessage",
    "Clock",
    "Features",
    "FloorAnswer",
    "FloorLost",
    "Joined",
    "Media",
    "MediaEvents",
    "Member",
    "NetworkChange",
    "NetworkEvents",
    "NetworkWatch",
    "Ports",
    "Reply",
    "Result",
    "Signaling",
    "SignalingEvents",
    "Timer",
    "TokenSource",
    "Tone",
]
