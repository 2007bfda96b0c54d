"""The messages relayed to one session, numbered and kept for the session's resume.

Every message relayed to a member gets the next number of its session (``seq`` in the
notification) and is kept in a bounded history. A resuming client that says the last
``seq`` it received (``last_seq``) gets everything after it replayed in order: queued,
written into a socket that died silently, or relayed while the link was down. A client
that says nothing (an older one) gets what today's servers owe: the messages no link
wrote (queued when the link died, or relayed while it was down). Past ``limit`` the
oldest are dropped; a resume is told how many of those it never got (``missed``). When
a session ends with messages still owed, the count is kept (bounded) so that a fresh
rejoin naming the old session can be told what it missed.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import NamedTuple

#: Messages kept per session: the newest this many are replayable on a resume (a grace
#: period's worth of a busy channel; a member's keepalive lets the server write into a
#: silently dead socket for 40 s).
MISSED_LIMIT = 256
#: Ended sessions whose missed count is remembered (oldest forgotten first).
LEDGER_LIMIT = 4096


class Numbered(NamedTuple):
    seq: int
    frame: str  # the MESSAGE notification without its seq (one string for every member)


class MissedMessages:
    def __init__(self, limit: int = MISSED_LIMIT) -> None:
        self._kept: deque[Numbered] = deque()
        self._limit = limit
        self.last = 0  # the seq of the newest message numbered for this session
        self._owed_from: int | None = None  # the oldest seq no link has written

    def __len__(self) -> int:
        """Messages kept that no link has written (owed to an older client's resume)."""
        if self._owed_from is None or not self._kept:
            return 0
        return self.last - max(self._owed_from, self._kept[0].seq) + 1

    @property
    def kept(self) -> int:
        """Messages kept for a resume, written or not."""
        return len(self._kept)

    @property
    def count(self) -> int:
        """Everything no link has written: kept plus dropped."""
        return 0 if self._owed_from is None else self.last - self._owed_from + 1

    def number(self, frame: str) -> tuple[Numbered, int]:
        """Number and keep a message; return it and how many owed ones were dropped."""
        self.last += 1
        entry = Numbered(self.last, frame)
        self._kept.append(entry)
        dropped = 0
        while len(self._kept) > self._limit:
            oldest = self._kept.popleft()
            if self._owed_from is not None and oldest.seq >= self._owed_from:
                dropped += 1
        return entry, dropped

    def owe(self, seq: int) -> None:
        """No link wrote ``seq`` (nor, being later, anything after it)."""
        if self._owed_from is None or seq < self._owed_from:
            self._owed_from = seq

    def resume(self, last_seq: int | None) -> int:
        """Keep only what the resuming client lacks; return how many of those are gone.

        ``last_seq`` is the last seq the client received (``None``: it does not say, so
        it lacks what no link wrote). What is kept afterwards is what :meth:`replay`
        hands out; it is kept until a later resume proves the client has it.
        """
        if last_seq is None:
            start = self.last + 1 if self._owed_from is None else self._owed_from
        else:
            start = min(last_seq, self.last) + 1
        while self._kept and self._kept[0].seq < start:
            self._kept.popleft()
        first = self._kept[0].seq if self._kept else self.last + 1
        self._owed_from = None  # the replay hands everything kept to the new link
        return first - start

    def replay(self) -> list[Numbered]:
        """Everything kept, oldest first (right after :meth:`resume`: what it lacks)."""
        return list(self._kept)


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
