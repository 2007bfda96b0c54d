"""Typed events the machine reports to listeners and to ``ConnectionManager.events()``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

#: The top-level states the user sees (what ``ConnectionManager.state`` returns).
StateName = Literal["idle", "connecting", "connected", "reconnecting", "disconnected", "error"]
STATES: tuple[StateName, ...] = get_args(StateName)


@dataclass(frozen=True)
class StateChanged:
    """The machine entered another state. ``state`` is the top-level state the user sees;
    ``detail`` the innermost one (``backing_off``, ``restoring``...)."""

    state: str
    previous: str
    detail: str
    event: str
    reason: str | None = None
    attempt: int = 0
    delay: float | None = None
    at: float = 0.0


@dataclass(frozen=True)
class Reconnecting:
    """A reconnect attempt is scheduled ``delay`` seconds from now."""

    attempt: int
    delay: float
    cause: str


@dataclass(frozen=True)
class Reconnected:
    """The whole session is restored (channel, transports, producer, consumers, floor)."""

    attempts: int
    downtime: float
    resumed: bool
    degraded: str | None = None


@dataclass(frozen=True)
class ReconnectFailed:
    """The backoff policy's ``max_attempts`` was reached; the machine is in ``error``."""

    attempts: int
    reason: str


@dataclass(frozen=True)
class ErrorRaised:
    """The machine entered ``error``: ``reason`` says why, ``guidance`` what to do."""

    reason: str
    guidance: str


@dataclass(frozen=True)
class ChannelChanged:
    """A channel notification: who talks, who joined or left, floor changes."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    speaker: str | None = None


PttEvent = (
    StateChanged | Reconnecting | Reconnected | ReconnectFailed | ErrorRaised | ChannelChanged
)
