"""The push-to-talk switch on the microphone: a track that passes frames only while open.

Why a gate track and not ``sender.replaceTrack(None)``: with no track, aiortc's sender
stops reading the microphone, so its frames would pile up in the capture queue and the
first words after the floor is granted would come out stale (or the queue grows without
limit). The gate keeps reading the microphone at its own pace and drops the frames while
closed. Dropped, not replaced by silence: the sender then sends no RTP at all while we do
not hold the floor, so idle clients cost the server nothing (CPU is the limit, see
STACK.md), and the gap in the capture timestamps carries into the RTP timestamps as a
normal talk-spurt pause.

The gate exists from ``connect`` (the send m-line needs a track), but the machine opens the
audio devices after connecting the media, so the microphone is attached later, at
``attach_microphone``; until then the gate simply yields nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.frame import Frame
from av.packet import Packet


class MicGate(MediaStreamTrack):
    """Closed (paused) until :meth:`set_open` ``(True)``; never stops the microphone."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack | None = None) -> None:
        super().__init__()
        self._source = source
        self._attached = asyncio.Event()
        if source is not None:
            self._attached.set()
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def attached(self) -> bool:
        return self._source is not None

    def attach(self, source: MediaStreamTrack) -> None:
        self._source = source
        self._attached.set()

    def set_open(self, on: bool) -> None:
        self._open = on

    async def recv(self) -> Frame | Packet[Any]:
        await self._attached.wait()
        while True:
            if self.readyState != "live" or self._source is None:
                raise MediaStreamError
            frame = await self._source.recv()
            if self._open:
                return frame
