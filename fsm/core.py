"""The machine's plumbing: its data, operation generations, timers and typed events.

Every mixin of :class:`fsm.machine.ConnectionMachine` builds on this; nothing here calls
an adapter except through the clock port for timers.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog
from statemachine import State

from .errors import PttError
from .events import PttEvent, StateChanged
from .model import Channel, Talk
from .outbox import Outbox
from .ports import Ports, Reply, Result, Timer
from .settings import Settings
from .steps import Step

log = structlog.get_logger("ptt.machine")


class MachineCore:
    """State the guards and actions share (assigned in ``ConnectionMachine.__init__``)."""

    settings: Settings
    ports: Ports
    token: str
    channel: Channel
    talk: Talk
    outbox: Outbox
    #: Reconnect attempt number (0 while none); reset after a stable restore.
    attempt: int
    next_delay: float | None
    reason: str | None
    last_error: PttError | None
    degraded_reason: str | None
    refreshed_token: bool
    resumed: bool
    #: Typed events produced by the transition in progress (read by listeners).
    transition_events: tuple[PttEvent, ...]
    metrics: dict[str, float]
    configuration: Any
    _pending: list[PttEvent]
    _generations: Counter[str]
    _timers: dict[str, Timer]
    _link_state: str
    _plan: tuple[Step, ...]
    _step_index: int
    _step_retries: dict[Step, int]
    _capabilities: Mapping[str, Any]
    _media_dead: bool
    _signal_only: bool
    _audio_started: bool
    _outage_started: float | None
    _gave_up: bool
    _error_override: PttError | None
    _tx_counter: itertools.count[int]
    _msg_counter: itertools.count[int]
    _client_id: str

    if TYPE_CHECKING:

        def send(self, event: str, *args: Any, **kwargs: Any) -> Any: ...

    # --- public read-only view ------------------------------------------------------------
    @property
    def state(self) -> str:
        """The top-level state the user sees (``connected``, ``reconnecting``...)."""
        # Between exit and entry actions the configuration can be empty: never raise
        # StopIteration out of a callback (the engine would swallow it silently).
        return next((s.id for s in self.configuration if s.parent is None), "")

    @property
    def detail(self) -> str:
        """The innermost active state (``backing_off``, ``restoring``...)."""
        atomic = [s for s in self.configuration if not s.states]
        return atomic[0].id if atomic else self.state

    @property
    def media(self) -> bool:
        return self.ports.transports is not None

    @property
    def step(self) -> Step | None:
        """The session step in progress, if any."""
        if self.detail in ("establishing", "restoring") and self._step_index < len(self._plan):
            return self._plan[self._step_index]
        return None

    def pending_timers(self) -> tuple[str, ...]:
        return tuple(sorted(self._timers))

    def _bump(self, kind: str) -> int:
        self._generations[kind] += 1
        return self._generations[kind]

    def _post_if_current(self, kind: str, generation: int, event: str, /, **data: Any) -> None:
        if self._generations[kind] != generation:
            # A report from a superseded operation (a late close, the answer to a cancelled
            # request): the machine has moved on. Worth a debug line, never an error.
            log.debug("ptt.late_event", trigger=event, operation=kind, state=self.state)
            return
        self.send(event, **data)

    def _reply_to(self, kind: str, ok: str, failed: str, /, **extra: Any) -> Reply:
        generation = self._bump(kind)

        def reply(result: Result) -> None:
            if result.ok:
                self._post_if_current(kind, generation, ok, value=result.value, **extra)
            else:
                self._post_if_current(kind, generation, failed, error=result.error, **extra)

        return reply

    def _arm(self, name: str, delay: float, event: str, /, **data: Any) -> None:
        """Start the one timer called ``name`` (replacing a pending one)."""
        self._disarm(name)
        generation = self._bump("timer:" + name)

        def fire() -> None:
            if self._generations["timer:" + name] == generation:
                self._timers.pop(name, None)
                self.send(event, **data)

        self._timers[name] = self.ports.clock.call_later(delay, fire)

    def _disarm(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        self._bump("timer:" + name)
        if timer is not None:
            timer.cancel()

    def _emit(self, event: PttEvent) -> None:
        self._pending.append(event)

    def before_transition(self) -> None:
        self._pending = []

    def after_transition(self, event: Any, source: State, transition: Any) -> None:
        event = getattr(event, "id", str(event))
        if transition.targets:  # targetless transitions change no state
            changed = StateChanged(
                state=self.state,
                previous=_top(source),
                detail=self.detail,
                event=event,
                reason=self.reason,
                attempt=self.attempt,
                delay=self.next_delay if self.detail == "backing_off" else None,
                at=self.ports.clock.now(),
            )
            self._pending.insert(0, changed)
        self.transition_events = tuple(self._pending)
        self._pending = []

    def _note_error(self, error: PttError | None) -> None:
        if error is not None:
            self.last_error = error
            self.reason = str(error)


def ignore_reply(result: Result) -> None:
    """Reply sink for fire-and-forget requests; failures surface as link events."""


def _top(state: State) -> str:
    while state.parent is not None:
        state = state.parent
    return state.id
