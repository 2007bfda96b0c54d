"""Who is still around, so that what the server remembers about a user is let go.

A user with neither an open link nor a session has left. What the server keeps about
it beyond its sessions (recent message ids, missed counts, its stats entries) outlives
it for ``forget_after`` seconds, so a client that reconnects after its session ended
still has its resent messages deduplicated; then ``on_forget(user)`` releases it all.
A user that comes back in time is not forgotten.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable


class Presence:
    def __init__(self, forget_after: float, on_forget: Callable[[str], None]) -> None:
        if forget_after < 0:
            raise ValueError("forget_after must not be negative")
        self._forget_after = forget_after
        self._on_forget = on_forget
        self._links: Counter[str] = Counter()
        self._leaving: dict[str, asyncio.TimerHandle] = {}

    def __len__(self) -> int:
        """Users tracked: with an open link, or gone and not yet forgotten."""
        return len(self._links.keys() | self._leaving.keys())

    def link_opened(self, user: str) -> None:
        self._links[user] += 1
        timer = self._leaving.pop(user, None)
        if timer is not None:
            timer.cancel()

    def link_closed(self, user: str) -> None:
        self._links[user] -= 1
        if self._links[user] <= 0:
            del self._links[user]

    def check(self, user: str, *, has_session: bool) -> None:
        """Call after a link closed or a session ended: start forgetting a departed user."""
        if has_session or self._links[user] > 0 or user in self._leaving:
            return  # (reading a missing Counter key does not add it)
        if self._forget_after == 0:
            self._on_forget(user)
            return
        loop = asyncio.get_running_loop()
        self._leaving[user] = loop.call_later(self._forget_after, self._forget, user)

    def _forget(self, user: str) -> None:
        del self._leaving[user]
        self._on_forget(user)

    def close(self) -> None:
        for timer in self._leaving.values():
            timer.cancel()
        self._leaving.clear()
