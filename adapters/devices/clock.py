"""The clock port on the running asyncio loop (monotonic ``loop.time()``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fsm.ports import Timer


class LoopClock:
    """``fsm.ports.Clock`` backed by ``loop.call_later``; create it inside the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self._loop.call_later(max(0.0, delay), callback)
