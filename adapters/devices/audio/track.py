"""The microphone as an aiortc audio track: 20 ms, 48 kHz, mono s16 frames."""

from __future__ import annotations

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from .frames import make_frame
from .sources import Source


class MicrophoneTrack(MediaStreamTrack):
    """Frames from any :class:`~adapters.audio.sources.Source`; pts counts samples.

    The track does not own its source: the audio adapter opens and closes it (stopping
    the track only ends this track, e.g. when aiortc is done with it).
    """

    kind = "audio"

    def __init__(self, source: Source) -> None:
        super().__init__()
        self._source = source

    async def recv(self) -> AudioFrame:  # narrower than the base: callers need no cast
        if self.readyState != "live":
            raise MediaStreamError
        pts, samples = await self._source.read()
        return make_frame(samples, pts)
