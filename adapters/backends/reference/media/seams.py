"""What the transports need from their neighbours: a request channel and the audio devices.

Both are Protocols so the signaling and audio adapters (and tests) plug in structurally.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aiortc.mediastreams import MediaStreamTrack


class Requester(Protocol):
    """One request/response over the signaling link (the signaling adapter provides it)."""

    async def call(
        self,
        method: str,
        data: Mapping[str, Any],
        timeout: float | None = None,  # noqa: ASYNC109 (the signaling adapter's own deadline)
    ) -> dict[str, Any]:
        """Return the response data; raise a :class:`fsm.errors.PttError` subclass on failure."""
        ...


class AudioIO(Protocol):
    """The local audio devices as aiortc tracks (the audio adapter provides it)."""

    def microphone_track(self) -> MediaStreamTrack:
        """The capture track, asked for at ``produce`` (after the audio adapter started).

        The audio adapter owns it: transports never stop it, so a rebuilt session may get
        the same track again."""
        ...

    def play(self, track: MediaStreamTrack) -> None:
        """Start playing one consumer's track (one call per consumer)."""
        ...

    def stop_playing(self, track: MediaStreamTrack) -> None:
        """Stop playing a track given to :meth:`play` (its consumer is closed)."""
        ...
