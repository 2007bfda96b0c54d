"""Floor control: at most one speaker per channel, each transmission named by its ``tx_id``.

Requests are idempotent by ``tx_id`` so a client may replay them after a reconnect:
a replayed start of the transmission that holds the floor is granted again, a stop for
any other transmission changes nothing, and a transmission that was stopped or revoked
stays over (a late replay of its start cannot take the floor back).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

_ENDED_MEMORY = 256  # replays arrive within one reconnect, so a short memory is enough


@dataclass(frozen=True)
class Grant:
    peer_id: str
    tx_id: str


class Floor:
    def __init__(self) -> None:
        self.holder: Grant | None = None
        self._ended: deque[Grant] = deque(maxlen=_ENDED_MEMORY)

    def request(self, peer_id: str, tx_id: str) -> tuple[bool, bool]:
        """Ask for the floor; return ``(granted, changed)``."""
        grant = Grant(peer_id, tx_id)
        if grant == self.holder:
            return True, False
        if grant in self._ended:
            return False, False
        if self.holder is None or self.holder.peer_id == peer_id:
            # The holder starting a new transmission implies its previous one is over
            # (its stop was lost).
            if self.holder is not None:
                self._ended.append(self.holder)
            self.holder = grant
            return True, True
        return False, False

    def release(self, peer_id: str, tx_id: str) -> bool:
        """The speaker's stop; only the transmission holding the floor can release it."""
        grant = Grant(peer_id, tx_id)
        self._ended.append(grant)  # stopped is over, even for a start that arrives later
        if grant != self.holder:
            return False
        self.holder = None
        return True

    def revoke(self) -> Grant | None:
        """Take the floor away for good (max talk time, kick); return who had it."""
        grant, self.holder = self.holder, None
        if grant is not None:
            self._ended.append(grant)
        return grant

    def drop(self, peer_id: str) -> Grant | None:
        """The speaker's link is gone: free the floor but let a replayed start regain it."""
        if self.holder is None or self.holder.peer_id != peer_id:
            return None
        grant, self.holder = self.holder, None
        return grant
