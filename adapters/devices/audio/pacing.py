"""Real-time pacing for synthetic sources, like aiortc's own ``AudioStreamTrack``."""

from __future__ import annotations

import asyncio

from .frames import FRAME_SECONDS

# A consumer that stopped pulling for longer than this (e.g. a paused sender) resumes at
# "now" instead of receiving the missed frames in a burst, which a receiver would hear as a
# fast-forward and its jitter buffer would have to throw away.
MAX_LATE = 5 * FRAME_SECONDS


class Pacer:
    """Hands out frame numbers, each no earlier than its wall-clock time."""

    def __init__(self) -> None:
        self._start: float | None = None
        self._frame = 0

    def reset(self) -> None:
        self._start = None

    async def next_frame(self) -> int:
        """Wait until the next frame is due; return its number (frames since the first)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._start is None:
            self._start, self._frame = now, 0
            return 0
        self._frame += 1
        due = self._start + self._frame * FRAME_SECONDS
        if now - due > MAX_LATE:
            self._frame = int((now - self._start) / FRAME_SECONDS)
        elif due > now:
            await asyncio.sleep(due - now)
        return self._frame
