"""Blocking calls (opening PortAudio devices, decoding files) kept off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Workers:
    """Short-lived threads, one per blocking call, that their owner can wait for.

    Not ``asyncio.to_thread``: its pool threads outlive the call, and the adapter promises
    that nothing of it runs after ``stop()`` + ``wait_closed()``.
    """

    def __init__(self) -> None:
        self._threads: list[tuple[threading.Thread, asyncio.Future[None]]] = []

    async def run(self, fn: Callable[[], T], abandon: Callable[[T], None]) -> T:
        """Run ``fn`` in a new thread and await its result.

        A thread cannot be cancelled: if the awaiting task is (``stop()`` during
        ``start()``), the result goes to ``abandon`` (which closes the device) as soon as
        ``fn`` returns.
        """
        loop = asyncio.get_running_loop()
        result: asyncio.Future[T] = loop.create_future()
        ended: asyncio.Future[None] = loop.create_future()

        def deliver(value: T) -> None:
            if result.cancelled():
                abandon(value)
            else:
                result.set_result(value)

        def fail(exc: Exception) -> None:
            if not result.cancelled():
                result.set_exception(exc)

        def work() -> None:
            try:
                value = fn()
            except Exception as exc:  # re-raised in the awaiting task
                _post(loop, fail, exc)
            else:
                if not _post(loop, deliver, value):
                    abandon(value)  # the loop is gone: nobody will take the device
            _post(loop, _settle, ended)  # the last thing this thread does

        thread = threading.Thread(target=work, name="ptt-audio-open", daemon=True)
        self._threads.append((thread, ended))
        thread.start()
        try:
            return await result
        except asyncio.CancelledError:
            # Cancelled after ``deliver`` set the result but before this task resumed: the
            # value never reaches the caller, so release it here.
            if result.done() and not result.cancelled() and result.exception() is None:
                abandon(result.result())
            raise

    async def join(self) -> None:
        """Wait until every thread started so far has ended."""
        while self._threads:
            thread, ended = self._threads.pop()
            await asyncio.shield(ended)
            thread.join()  # it has posted its last callback: this returns at once


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _post(loop: asyncio.AbstractEventLoop, fn: Callable[[T], None], arg: T) -> bool:
    try:
        loop.call_soon_threadsafe(fn, arg)
    except RuntimeError:  # loop closed
        return False
    return True
