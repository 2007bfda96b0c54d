"""What a backend is: the ports of one kind of server, built per connection.

A backend owns its wire end to end (constants, codec with validation, signaling, media) and
hands the machine only :mod:`fsm.ports` objects speaking :mod:`fsm.domain` values.
``ConnectionManager(backend=...)`` takes a :class:`Backend` object or the name of a built-in
one (:func:`adapters.backends.resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aiortc.mediastreams import MediaStreamTrack

from fsm.domain import Features
from fsm.ports import Media, Signaling


@runtime_checkable
class AudioIO(Protocol):
    """The local audio devices as aiortc tracks (``adapters.devices.audio`` provides it)."""

    def microphone_track(self) -> MediaStreamTrack:
        """The capture track, asked for when the microphone is attached (after the audio
        adapter started). The audio adapter owns it: media adapters never stop it, so a
        rebuilt media path may get the same track again."""
        ...

    def play(self, track: MediaStreamTrack) -> None:
        """Start playing one received track (one call per track)."""
        ...

    def stop_playing(self, track: MediaStreamTrack) -> None:
        """Stop playing a track given to :meth:`play`."""
        ...


@dataclass(frozen=True)
class BackendContext:
    """What a backend needs to build the ports of one connection."""

    channel: str
    media: bool = True
    audio: AudioIO | None = None  # None: signaling only (or no audio device wanted)


@dataclass(frozen=True)
class BackendPorts:
    """The ports a backend built for one connection (``media`` None: signaling only)."""

    signaling: Signaling
    media: Media | None = None


@runtime_checkable
class Backend(Protocol):
    """A kind of server: what it supports, and how to build the ports that talk to it."""

    @property
    def name(self) -> str:
        """A short name for logs and the CLI (``reference``, ``janus``)."""
        ...

    @property
    def features(self) -> Features:
        """What the server supports; the machine adapts its plan and guards to it."""
        ...

    def build(self, context: BackendContext) -> BackendPorts:
        """New, unopened ports for one connection (the machine opens and closes them)."""
        ...
