"""Observing the machine through its own listener mechanism.

Register listeners with ``ConnectionMachine(..., listeners=[...])`` or
``machine.add_listener(...)``. :class:`Listener` turns each transition into the typed
events of :mod:`fsm.events`; :class:`LogListener` logs every transition as one structlog
event (``ptt.transition``) with flat keys. Neither configures logging, and neither ever
sees the token (event arguments are not logged).
"""

from __future__ import annotations

import functools
from typing import Any

from .events import PttEvent, StateChanged
from .logs import get_logger


class Listener:
    """Base listener: override :meth:`on_event` to receive typed events."""

    def after_transition(self, machine: Any) -> None:
        for event in machine.transition_events:
            self.on_event(event)

    def on_event(self, event: PttEvent) -> None:  # pragma: no cover - meant to be overridden
        """Called once per typed event, in order, after the transition completed."""


class Recorder(Listener):
    """Keeps every typed event in ``events`` (handy in tests and notebooks)."""

    def __init__(self) -> None:
        self.events: list[PttEvent] = []

    def on_event(self, event: PttEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class LogListener(Listener):
    """Logs each state change as ``ptt.transition`` and each other typed event as
    ``ptt.<kind>`` (``ptt.reconnecting``...), with flat keys. Use it as an observer
    (``ConnectionMachine(..., observers=[LogListener().on_event])``) or a listener."""

    def __init__(self, logger: Any = None) -> None:
        self.log = logger if logger is not None else get_logger("ptt")

    def on_event(self, event: PttEvent) -> None:
        if isinstance(event, StateChanged):
            self.log.info(
                "ptt.transition",
                trigger=event.event,
                source=event.previous,
                target=event.state,
                state=event.state,
                detail=event.detail,
                attempt=event.attempt,
                delay=event.delay,
                reason=event.reason,
            )
        else:
            self.log.info("ptt." + _snake(type(event).__name__), **_flat(event))


def guarded(listener: Any) -> Any:
    """A copy of ``listener`` whose callbacks log and swallow their own exceptions.

    The engine turns an exception in any callback into ``error.execution`` (the machine goes
    to ``error``): right for the library's own actions, wrong for an application's display
    code. ``ConnectionManager.add_listener`` wraps user listeners with this.
    """
    shell = type("Guarded" + type(listener).__name__, (), {})()
    for name in dir(listener):
        attr = getattr(listener, name, None)
        if not name.startswith("_") and callable(attr):
            setattr(shell, name, _guard(attr, name))
    return shell


def _guard(func: Any, name: str) -> Any:
    @functools.wraps(func)  # keeps the signature: the engine injects arguments by name
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # an application bug must not end the connection
            get_logger("ptt").error(
                "ptt.listener_failed", callback=name, error=f"{type(exc).__name__}: {exc}"
            )
            return None

    return call


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _flat(event: PttEvent) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in vars(event).items():
        key = "trigger" if name == "event" else name  # structlog owns the "event" key
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif key == "data" and isinstance(value, dict):
            out.update(
                {f"data_{k}": v for k, v in value.items() if isinstance(v, (str, int, float))}
            )
    return out
