"""What the server saw, for tests and operators: counters and a window of recent requests.

Nothing here grows with traffic: totals are counters keyed by closed sets (HTTP statuses,
protocol methods, drop reasons), and the detail kept per request and per relayed message
is a window of the newest ``window`` entries. A user's entries are also removed when the
server forgets that user (see :mod:`.presence`), so a departed client leaves nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from typing import Any, NamedTuple

#: Entries kept in each window: enough to follow a session, small enough to ignore.
WINDOW = 512


class LoggedRequest(NamedTuple):
    method: str
    data: dict[str, Any]


class Stats:
    def __init__(self, window: int = WINDOW) -> None:
        if window < 1:
            raise ValueError("the stats window must hold at least one entry")
        #: Handshake outcomes: ``"ok"`` or the HTTP status as a string (``"401"``, ``"503"``...).
        self.handshakes: Counter[str] = Counter()
        #: Requests accepted for dispatch (well-formed, within the rate limit), by method.
        self.request_counts: Counter[str] = Counter()
        #: ``message`` payloads relayed to a channel (duplicates by ``msg_id`` left out).
        self.relayed_count = 0
        #: What the server gave up on, by reason (``"missed_overflow"``: a message that did
        #: not fit a disconnected member's resume buffer).
        self.dropped: Counter[str] = Counter()
        self._requests: deque[tuple[str, LoggedRequest]] = deque(maxlen=window)
        self._delivered: deque[tuple[str, dict[str, Any]]] = deque(maxlen=window)

    def record(self, user: str, method: str, data: dict[str, Any]) -> None:
        self.request_counts[method] += 1
        self._requests.append((user, LoggedRequest(method, data)))

    def relayed(self, user: str, data: dict[str, Any]) -> None:
        self.relayed_count += 1
        self._delivered.append((user, data))

    def forget(self, user: str) -> None:
        """Drop ``user``'s entries from the windows (the counters stay: they are totals)."""
        size = self._requests.maxlen
        self._requests = deque((e for e in self._requests if e[0] != user), maxlen=size)
        self._delivered = deque((e for e in self._delivered if e[0] != user), maxlen=size)

    def stored(self) -> int:
        """How many entries the windows hold (bounded by twice the window size)."""
        return len(self._requests) + len(self._delivered)

    # --- views (recent window only) ------------------------------------------------------
    @property
    def requests(self) -> defaultdict[str, list[LoggedRequest]]:
        """Recent accepted requests per user, in order."""
        by_user: defaultdict[str, list[LoggedRequest]] = defaultdict(list)
        for user, request in self._requests:
            by_user[user].append(request)
        return by_user

    @property
    def delivered(self) -> defaultdict[str, list[dict[str, Any]]]:
        """Recent relayed ``message`` payloads per sender, in order."""
        by_user: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for user, data in self._delivered:
            by_user[user].append(data)
        return by_user

    def methods(self, user: str) -> list[str]:
        return [r.method for u, r in self._requests if u == user]

    def messages(self, user: str) -> list[dict[str, Any]]:
        """The payloads of ``user``'s recent ``message`` requests, in the order received."""
        return [r.data for u, r in self._requests if u == user and r.method == "message"]
