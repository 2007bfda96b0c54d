"""Messages a member could not be given while its link was down, kept for its resume.

A session in its grace period (or whose socket died with frames still queued) collects
the channel's messages in a bounded buffer; a resume replays them in order. Past
``limit`` the oldest are dropped and counted, so the client is told how many it lost.
When a session ends with messages still owed, the count is kept (bounded) so that a
fresh rejoin naming the old session can be told what it missed.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import NamedTuple

#: Messages kept per disconnected session; a resume inside the grace period gets them all.
MISSED_LIMIT = 256
#: Ended sessions whose missed count is remembered (oldest forgotten first).
LEDGER_LIMIT = 4096


class MissedMessages:
    def __init__(self, limit: int = MISSED_LIMIT) -> None:
        self._frames: deque[str | bytes] = deque()
        self._limit = limit
        self.overflow = 0  # dropped since the last report to the client

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def count(self) -> int:
        """Everything the client has not received: kept plus dropped."""
        return len(self._frames) + self.overflow

    def keep(self, frame: str | bytes) -> int:
        """Keep ``frame`` for the replay; return how many old frames were dropped (0 or 1)."""
        self._frames.append(frame)
        return self._trim()

    def salvage(self, frames: Iterable[str | bytes]) -> int:
        """Put back frames a dead link never wrote; they precede anything kept since."""
        self._frames.extendleft(reversed(list(frames)))
        return self._trim()

    def take(self) -> list[str | bytes]:
        """Everything kept, oldest first; the buffer is emptied (the overflow count stays)."""
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def _trim(self) -> int:
        dropped = max(0, len(self._frames) - self._limit)
        for _ in range(dropped):
            self._frames.popleft()
        self.overflow += dropped
        return dropped


class _Ended(NamedTuple):
    user: str
    channel: str
    missed: int


class MissedLedger:
    """How many messages ended sessions still owed, by session id, for a fresh rejoin."""

    def __init__(self, limit: int = LEDGER_LIMIT) -> None:
        self._limit = limit
        self._by_session: OrderedDict[str, _Ended] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_session)

    def note(self, session_id: str, user: str, channel: str, missed: int) -> None:
        if missed <= 0:
            return
        self._by_session[session_id] = _Ended(user, channel, missed)
        while len(self._by_session) > self._limit:
            self._by_session.popitem(last=False)

    def take(self, session_id: str, user: str, channel: str) -> int:
        """The count owed to ``session_id`` (0 if unknown); someone else's id gives 0."""
        ended = self._by_session.get(session_id)
        if ended is None or (ended.user, ended.channel) != (user, channel):
            return 0
        del self._by_session[session_id]
        return ended.missed

    def forget(self, user: str) -> None:
        for session_id in [s for s, e in self._by_session.items() if e.user == user]:
            del self._by_session[session_id]
