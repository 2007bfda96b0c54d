"""Typed events to any number of async subscribers, each with its own bounded queue."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType

from fsm.events import PttEvent, StateChanged
from fsm.observe import Listener


class EventStream:
    """An async iterator of typed events, subscribed when created (not when first awaited).

    Its first item is the :class:`~fsm.events.StateChanged` that entered the current state
    (if any), so ``async for event in conn.events()`` right after ``connect()`` still sees
    ``idle -> connecting``. Bounded: when the consumer falls ``maxsize`` behind, the oldest
    events are dropped (``dropped`` counts them). ``aclose()``, or leaving ``async with``,
    unsubscribes; a stream nobody holds any more unsubscribes itself."""

    def __init__(self, fanout: Fanout, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._queue: asyncio.Queue[PttEvent] = asyncio.Queue(maxsize)
        self._fanout = fanout
        self.dropped = 0
        if fanout.entered is not None:
            self.put(fanout.entered)
        fanout.streams.add(self)

    def put(self, event: PttEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> PttEvent:
        if self not in self._fanout.streams:
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        self._fanout.streams.discard(self)

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Fanout(Listener):
    """The machine listener that copies each typed event into every live stream."""

    def __init__(self) -> None:
        self.streams: weakref.WeakSet[EventStream] = weakref.WeakSet()
        #: The transition into the current top-level state, replayed to new streams.
        self.entered: StateChanged | None = None

    def on_event(self, event: PttEvent) -> None:
        if isinstance(event, StateChanged) and event.state != event.previous:
            self.entered = event
        for stream in list(self.streams):
            stream.put(event)
