"""The floor as we see it: does the user want to talk, and is the floor ours?

Talk intent is state, never a queued message: a restore asks for the floor again only if
the user still holds the button (``held_since_before_outage``), so a stale "stop" can never
be sent alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum


class FloorStatus(StrEnum):
    NONE = "none"  # not ours, not asked for
    REQUESTED = "requested"  # asked for, waiting for the answer
    GRANTED = "granted"  # ours: we transmit


@dataclass
class Floor:
    """The user's intent (``held``) and the floor's status for transmission ``tx_id``."""

    held: bool = False
    held_since_before_outage: bool = False
    tx_id: str | None = None
    status: FloorStatus = FloorStatus.NONE
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def granted(self) -> bool:
        return self.status is FloorStatus.GRANTED

    @property
    def active(self) -> bool:
        """Asked for or granted: a release must tell the server."""
        return self.status is not FloorStatus.NONE and self.tx_id is not None

    def press(self) -> str | None:
        """The user pressed: a new transmission id, or ``None`` for a repeated press."""
        if self.held:
            return None  # key repeat is not a new transmission
        self.held = True
        self.tx_id = f"tx-{next(self._ids)}"
        return self.tx_id

    def request(self, tx_id: str | None = None) -> str:
        """Ask for the floor (for ``tx_id``, or a new transmission)."""
        if tx_id is None:
            tx_id = f"tx-{next(self._ids)}"
        self.tx_id = tx_id
        self.status = FloorStatus.REQUESTED
        return tx_id

    def release(self) -> str | None:
        """The user released: forget the transmission; return its id if it was active."""
        was_active = self.tx_id if self.active else None
        self.held = False
        self.held_since_before_outage = False
        self.status = FloorStatus.NONE
        self.tx_id = None
        return was_active

    def lose(self) -> None:
        """The floor is gone (lost, denied, or the link went down); the intent stays."""
        self.status = FloorStatus.NONE

    def forget_outage(self) -> None:
        """Leaving ``connected``: remember whether the user was holding the button."""
        self.held_since_before_outage = self.held
        self.status = FloorStatus.NONE
        self.tx_id = None

    def reset(self) -> None:
        """Forget intent and floor (the session ended); transmission ids keep counting."""
        self.held = self.held_since_before_outage = False
        self.tx_id = None
        self.status = FloorStatus.NONE
