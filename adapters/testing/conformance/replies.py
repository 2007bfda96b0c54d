"""Reply callbacks turned into awaited futures, each checked to be called exactly once.

A port call reports its outcome later through a :data:`~fsm.ports.Reply`. The ledger
hands out replies that resolve a future, note every call, and complain about a second
one or a reply that is not a :class:`~fsm.ports.Result`::

    ledger = ReplyLedger(Rules("alice"))
    result = await ledger.call("join", lambda reply: signaling.join("ops", None, reply), 5)
    joined = value_of(result, Joined, "join")
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fsm.errors import PttError
from fsm.ports import Reply, Result

from .failures import ConformanceError
from .rules import Rules

T = TypeVar("T")


@dataclass
class Pending:
    """One reply handed to a port: what it answers, and every time it was called."""

    what: str
    future: asyncio.Future[Result[Any]]
    results: list[Result[Any]] = field(default_factory=list)


class ReplyLedger:
    """Every reply one client handed out, so a case can check each was called once."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.replies: list[Pending] = []

    def reply(self, what: str) -> tuple[Reply, asyncio.Future[Result[Any]]]:
        """A fresh reply for operation ``what`` and the future it resolves."""
        pending = Pending(what, asyncio.get_running_loop().create_future())
        self.replies.append(pending)

        def reply(result: Result[Any]) -> None:
            self.rules.callback(f"the {what} reply")
            pending.results.append(result)
            if len(pending.results) > 1:
                self.rules.broken(f"the {what} reply was called {len(pending.results)} times")
            if not isinstance(result, Result):
                self.rules.broken(f"the {what} reply got {result!r:.60}, not a Result")
            elif result.error is not None and not isinstance(result.error, PttError):
                self.rules.broken(f"the {what} reply failed with {result.error!r}, not a PttError")
            if not pending.future.done():
                pending.future.set_result(result)

        return reply, pending.future

    async def call(self, what: str, start: Callable[[Reply], None], within: float) -> Result[Any]:
        """Run ``start(reply)`` and wait for its result, at most ``within`` seconds."""
        reply, future = self.reply(what)
        with self.rules.port_call(what):
            start(reply)
        return await wait_result(future, within, f"{self.rules.client}: the {what} reply")

    def unanswered(self) -> list[str]:
        return [p.what for p in self.replies if not p.results]


async def wait_result(future: asyncio.Future[Result[Any]], within: float, what: str) -> Result[Any]:
    """The result ``future`` gets, or :class:`ConformanceError` after ``within`` s."""
    try:
        return await asyncio.wait_for(asyncio.shield(future), within)
    except TimeoutError:
        raise ConformanceError(f"{what} was not called within {within} s") from None


def value_of(result: Result[Any], kind: type[T], what: str) -> T:
    """The value of an ``ok`` ``result``, checked to be a ``kind``."""
    if result.error is not None:
        raise ConformanceError(f"{what} failed: {result.error!r}")
    if not isinstance(result.value, kind):
        raise ConformanceError(f"{what} answered {result.value!r:.80}, not a {kind.__name__}")
    return result.value
