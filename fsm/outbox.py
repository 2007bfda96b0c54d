"""The outbound queue that holds what the user sends while the link is not usable.

Bounded (drop the OLDEST when full: the newest messages matter most after an outage) and
released only when the session restore has finished. PTT start/stop entries expire after
``ptt_stale_after`` seconds, and a STOP is never released without its START: a late
"stop talking" alone would release a floor someone else now holds.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import ConfigError


class Intent(StrEnum):
    """What a queued entry asks the server to do."""

    TALK = "talk"  # ask for the floor as transmission ``tx_id``
    STOP_TALKING = "stop_talking"  # end transmission ``tx_id``
    MESSAGE = "message"  # deliver ``data`` to the channel as message ``msg_id``


@dataclass(frozen=True)
class Outgoing:
    """One queued entry: a floor intent or a user message (JSON-able ``data``)."""

    intent: Intent
    queued_at: float = 0.0
    tx_id: str | None = None
    msg_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_ptt(self) -> bool:
        return self.intent is not Intent.MESSAGE


class Outbox:
    """FIFO of :class:`Outgoing` with drop-oldest overflow and stale PTT expiry."""

    def __init__(self, capacity: int = 100, ptt_stale_after: float = 2.0) -> None:
        if capacity < 1 or ptt_stale_after < 0:
            raise ConfigError("outbox capacity must be >= 1 and ptt_stale_after >= 0")
        self.capacity = capacity
        self.ptt_stale_after = ptt_stale_after
        self._items: deque[Outgoing] = deque()
        #: Messages dropped, by cause: ``overflow``, ``stale``, ``orphan_stop``, ``discarded``.
        self.dropped: Counter[str] = Counter()
        # Starts released so far (a stop may follow in a later batch); bounded by discard().
        self._released_starts: set[str] = set()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Outgoing) -> None:
        if len(self._items) >= self.capacity:
            self._items.popleft()
            self.dropped["overflow"] += 1
        self._items.append(item)

    def drain(self, now: float, limit: int | None = None) -> list[Outgoing]:
        """Take up to ``limit`` sendable messages (all by default), in order.

        Stale PTT entries and orphan stops met on the way are dropped and counted."""
        out: list[Outgoing] = []
        started = self._released_starts
        while self._items and (limit is None or len(out) < limit):
            item = self._items.popleft()
            if item.is_ptt and now - item.queued_at > self.ptt_stale_after:
                self.dropped["stale"] += 1
                continue
            if item.intent is Intent.TALK and item.tx_id is not None:
                started.add(item.tx_id)
            if item.intent is Intent.STOP_TALKING and item.tx_id not in started:
                self.dropped["orphan_stop"] += 1
                continue
            out.append(item)
        return out

    def discard(self) -> int:
        """Drop everything (the user disconnected); returns how many were dropped."""
        count = len(self._items)
        self._items.clear()
        self._released_starts.clear()
        self.dropped["discarded"] += count
        return count

    def peek(self) -> tuple[Outgoing, ...]:
        return tuple(self._items)
