"""The outbound queue that holds what the user sends while the link is not usable, and
the user messages sent but not yet confirmed.

Bounded (drop the OLDEST when full: the newest messages matter most after an outage) and
released only when the session restore has finished. PTT start/stop entries expire after
``ptt_stale_after`` seconds, and a STOP is never released without its START: a late
"stop talking" alone would release a floor someone else now holds.

A message's fate is reported once through its entry's ``notify`` (:mod:`fsm.delivery`):
delivered, or dropped and counted in :attr:`Outbox.dropped` by cause.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .delivery import DropCause, MessageOutcome, Notify
from .errors import ConfigError, PttError
from .logs import get_logger

log = get_logger("ptt.outbox")


class Intent(StrEnum):
    """What a queued entry asks the server to do."""

    TALK = "talk"  # ask for the floor as transmission ``tx_id``
    STOP_TALKING = "stop_talking"  # end transmission ``tx_id``
    MESSAGE = "message"  # deliver ``data`` to the channel as message ``msg_id``


@dataclass(frozen=True)
class Outgoing:
    """One queued entry: a floor intent or a user message (JSON-able ``data``).

    A message also carries its encoded ``size``, how often it went unanswered on an open
    link (``timeouts``) or was in flight at a link loss (``outages``), and the ``notify``
    callback that hears its outcome."""

    intent: Intent
    queued_at: float = 0.0
    tx_id: str | None = None
    msg_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    size: int = 0
    timeouts: int = 0
    outages: int = 0
    notify: Notify | None = field(default=None, compare=False, repr=False)

    @property
    def is_ptt(self) -> bool:
        return self.intent is not Intent.MESSAGE


class Outbox:
    """FIFO of :class:`Outgoing` with drop-oldest overflow and stale PTT expiry, plus the
    messages in flight (sent, unanswered) with the link generation each went out on."""

    def __init__(self, capacity: int = 100, ptt_stale_after: float = 2.0) -> None:
        if capacity < 1 or ptt_stale_after < 0:
            raise ConfigError("outbox capacity must be >= 1 and ptt_stale_after >= 0")
        self.capacity = capacity
        self.ptt_stale_after = ptt_stale_after
        self._items: deque[Outgoing] = deque()
        #: Entries dropped, by :class:`~fsm.delivery.DropCause` value.
        self.dropped: Counter[str] = Counter()
        # Starts released so far (a stop may follow in a later batch); bounded by discard().
        self._released_starts: set[str] = set()
        self._in_flight: dict[str, tuple[Outgoing, int]] = {}
        # The link whose protocol close was judged, and the message found guilty.
        self._judged: tuple[int, str] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Outgoing) -> None:
        if len(self._items) >= self.capacity:
            self.drop(self._items.popleft(), DropCause.OVERFLOW)
        self._items.append(item)

    def drain(self, now: float, limit: int | None = None) -> list[Outgoing]:
        """Take up to ``limit`` sendable messages (all by default), in order.

        Stale PTT entries and orphan stops met on the way are dropped and counted."""
        out: list[Outgoing] = []
        started = self._released_starts
        while self._items and (limit is None or len(out) < limit):
            item = self._items.popleft()
            if item.is_ptt and now - item.queued_at > self.ptt_stale_after:
                self.drop(item, DropCause.STALE)
                continue
            if item.intent is Intent.TALK and item.tx_id is not None:
                started.add(item.tx_id)
            if item.intent is Intent.STOP_TALKING and item.tx_id not in started:
                self.drop(item, DropCause.ORPHAN_STOP)
                continue
            out.append(item)
        return out

    def discard(self) -> int:
        """Drop everything queued or in flight (the user disconnected); returns how many."""
        items = [*self._items, *(item for item, _ in self._in_flight.values())]
        self._items.clear()
        self._in_flight.clear()
        self._released_starts.clear()
        for item in items:
            self.drop(item, DropCause.DISCARDED)
        return len(items)

    def peek(self) -> tuple[Outgoing, ...]:
        return tuple(self._items)

    # --- outcomes --------------------------------------------------------------------------
    def drop(self, item: Outgoing, cause: DropCause, error: PttError | None = None) -> None:
        """Count ``item`` as dropped for ``cause`` and tell its sender."""
        self.dropped[cause.value] += 1
        _tell(item, MessageOutcome(item.msg_id or "", cause, error))

    def delivered(self, item: Outgoing) -> None:
        _tell(item, MessageOutcome(item.msg_id or ""))

    # --- messages in flight ----------------------------------------------------------------
    def sending(self, item: Outgoing, link: int) -> None:
        """``item`` goes out on link generation ``link``; it is in flight until answered."""
        assert item.msg_id is not None
        self._in_flight[item.msg_id] = (item, link)

    def answered(self, item: Outgoing) -> bool:
        """Take ``item`` out of flight; False if it was not in flight (already discarded)."""
        return self._in_flight.pop(item.msg_id or "", None) is not None

    def in_flight(self) -> tuple[Outgoing, ...]:
        return tuple(item for item, _ in self._in_flight.values())

    @property
    def flying(self) -> int:
        """How many messages are sent and not yet answered."""
        return len(self._in_flight)

    def guilty(self, item: Outgoing, link: int) -> bool:
        """Is ``item`` the message that made the server close link ``link``?

        Judged once per link, when its first unanswered message reports the close: of that
        message and the others still in flight on the link, the largest (the earliest sent
        on a tie) is the culprit. The server reads in order and a too-big or malformed
        frame ends the link at once, so the culprit is almost always alone or the largest.
        """
        if self._judged is None or self._judged[0] != link:
            suspects = [item, *(i for i, on in self._in_flight.values() if on == link)]
            culprit = max(suspects, key=lambda s: s.size)
            self._judged = (link, culprit.msg_id or "")
        return self._judged[1] == item.msg_id


def _tell(item: Outgoing, outcome: MessageOutcome) -> None:
    """Hand the sender its outcome; a failing callback is its bug, never the machine's."""
    if item.notify is None:
        return
    try:
        item.notify(outcome)
    except Exception:
        log.exception("ptt.outbox.notify_failed", msg_id=outcome.msg_id)
