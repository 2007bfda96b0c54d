"""User messages on their way to the machine: one awaitable :class:`Delivery` per message,
and the messages of one loop tick handed over as one batch (one transition, not one per
message: a burst of 10,000 must not stall the event loop)."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Callable, Generator, Mapping
from typing import Any

from fsm import ConnectionMachine, IllegalTransition
from fsm.delivery import DropCause, InvalidMessage, MessageOutcome
from fsm.outbox import Outgoing

_LIVE = ("connecting", "connected", "reconnecting")
#: At most this many messages per transition; the rest follow on the next loop turns.
BURST_CHUNK = 256
#: At most this many messages sent and not yet answered: a burst must not make the server
#: queue more answers than a slow reader may hold (it cuts such a client off).
WINDOW = 256
#: While the window is full, look again this often (only while a burst is waiting).
WINDOW_RECHECK = 0.005


class Delivery:
    """What became of one :meth:`ConnectionManager.send_message`.

    ``await delivery`` gives its :class:`~fsm.delivery.MessageOutcome` (``delivered``, or
    the ``cause`` of the drop: see :class:`~fsm.delivery.DropCause`); sync code polls
    ``done()`` and ``result``. Cancelling an ``await`` does not cancel the delivery."""

    __slots__ = ("_future", "msg_id")

    def __init__(self, msg_id: str, future: asyncio.Future[MessageOutcome]) -> None:
        self.msg_id = msg_id
        self._future = future

    def done(self) -> bool:
        return self._future.done()

    @property
    def result(self) -> MessageOutcome | None:
        """The outcome once settled, else None."""
        return self._future.result() if self._future.done() else None

    def __await__(self) -> Generator[Any, None, MessageOutcome]:
        return asyncio.shield(self._future).__await__()

    def __repr__(self) -> str:
        return f"Delivery({self.msg_id!r}, {self.result!r})"


def _settle(future: asyncio.Future[MessageOutcome], outcome: MessageOutcome) -> None:
    if not future.done():
        future.set_result(outcome)


class Outbound:
    """The messages of this loop tick not yet handed to the machine, and the ones refused
    before they reached it (by cause, for ``metrics.dropped``)."""

    def __init__(self, machine: Callable[[], ConnectionMachine | None]) -> None:
        self._machine = machine
        self._burst: list[Outgoing] = []
        self._due = False
        self.refused: Counter[str] = Counter()

    def send(self, machine: ConnectionMachine | None, data: Mapping[str, Any]) -> Delivery:
        # With a burst pending, this tick already found the state live and nothing ran since.
        if machine is None or (not self._burst and machine.state not in _LIVE):
            raise IllegalTransition("send_message", machine.state if machine else "idle")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[MessageOutcome] = loop.create_future()
        try:
            item = machine.new_message(data, functools.partial(_settle, future))
        except InvalidMessage as exc:
            self.refused[exc.cause.value] += 1
            raise
        self._burst.append(item)
        if not self._due:
            self._due = True
            loop.call_soon(self.release)
        assert item.msg_id is not None
        return Delivery(item.msg_id, future)

    def release(self, limit: int | None = BURST_CHUNK) -> None:
        """Hand the machine the messages sent so far (at most ``limit``; the rest on the
        next tick) as one ``send_message`` event."""
        self._due = False
        burst = self._burst
        machine = self._machine()
        if limit is not None and machine is not None and machine.state == "connected":
            room = WINDOW - machine.outbox.flying
            if room <= 0 and burst:
                self._due = True
                asyncio.get_running_loop().call_later(WINDOW_RECHECK, self.release)
                return
            limit = min(limit, room)
        if limit is None or len(burst) <= limit:
            batch, self._burst = burst, []
        else:
            batch = burst[:limit]
            del burst[:limit]
            self._due = True
            asyncio.get_running_loop().call_soon(self.release)
        if not batch:
            return
        if machine is not None and machine.state in _LIVE:
            machine.send("send_message", batch=tuple(batch))
            return
        for item in batch:  # the connection ended in this very tick: never handed over
            self.refused[DropCause.DISCARDED.value] += 1
            if item.notify is not None:
                item.notify(MessageOutcome(item.msg_id or "", DropCause.DISCARDED))
