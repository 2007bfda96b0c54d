"""Remembers recent message ids per user, so a message resent after a reconnect (its
first copy arrived but the answer was lost with the link) is delivered only once."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    def __init__(self, per_user: int = 1024) -> None:
        self._per_user = per_user
        self._seen: dict[str, OrderedDict[str, None]] = {}

    def __len__(self) -> int:
        """Users whose ids are remembered."""
        return len(self._seen)

    def first_time(self, user: str, message_id: str) -> bool:
        """True the first time ``message_id`` is seen for ``user`` (bounded memory)."""
        seen = self._seen.setdefault(user, OrderedDict())
        if message_id in seen:
            return False
        seen[message_id] = None
        if len(seen) > self._per_user:
            seen.popitem(last=False)
        return True

    def forget(self, user: str) -> None:
        self._seen.pop(user, None)
