"""The machine's plumbing: its data, operation generations, timers and typed events.

Every mixin of :class:`fsm.machine.ConnectionMachine` builds on this; nothing here calls
an adapter except through the clock port for timers.
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from statemachine import State

from .channel import ChannelPicture
from .domain import AudioSource
from .errors import PttError
from .events import PttEvent, StateChanged, StateName
from .floor import Floor
from .logs import get_logger
from .outbox import Outbox
from .plan import Plan, Step
from .ports import Ports, Reply, Result, Timer
from .settings import Settings

log = get_logger("ptt.machine")


class MachineCore:
    """The data the guards and actions share, assigned here and nowhere else.

    The channel picture, the floor, the session plan and the outbox are small objects the
    actions call; the rest is the bookkeeping of attempts, timers and operations."""

    configuration: Any  # the engine's active states (python-statemachine)

    def _init_core(self, settings: Settings, ports: Ports) -> None:
        self.settings = settings
        self.ports = ports
        self.features = ports.features
        self.token = settings.token
        self.channel = ChannelPicture(settings.channel)
        self.floor = Floor()
        self.plan = Plan()
        self.outbox = Outbox(settings.outbox_capacity, settings.ptt_stale_after)
        #: Reconnect attempt number (0 while none); reset after a stable restore.
        self.attempt = 0
        self.next_delay: float | None = None
        self.reason: str | None = None
        self.last_error: PttError | None = None
        self.refreshed_token = False
        #: Typed events produced by the transition in progress (read by listeners).
        self.transition_events: tuple[PttEvent, ...] = ()
        #: Called with each typed event after its transition. Cheaper than a
        #: python-statemachine listener, which costs a callback per transition per instance.
        self.observers: list[Callable[[PttEvent], None]] = []
        self.metrics: dict[str, float] = {
            "episodes": 0,
            "attempts": 0,
            "recoveries": 0,
            "last_recovery_seconds": 0.0,
            "network_attempts": 0,  # attempts started because the network came back
            "network_probes": 0,  # liveness probes because the path changed while connected
        }
        self._pending: list[PttEvent] = []
        self._generations: Counter[str] = Counter()
        self._timers: dict[str, Timer] = {}
        self._link_state = "closed"  # closed | opening | open
        self._media_dead = False
        #: The sources the media was last asked to follow (a change mid-plan is caught up).
        self._followed: frozenset[AudioSource] = frozenset()
        self._audio_started = False
        self._outage_started: float | None = None
        self._gave_up = False
        self._error_override: PttError | None = None
        self._retry_not_before: float | None = None  # a server's Retry-After, while it stands
        self._last_network_hint: float | None = None
        self._network_watching = False
        self._msg_counter = itertools.count(1)
        self._client_id = secrets.token_hex(4)

    if TYPE_CHECKING:

        def send(self, event: str, *args: Any, **kwargs: Any) -> Any: ...

    # --- public read-only view ------------------------------------------------------------
    @property
    def state(self) -> StateName:
        """The top-level state the user sees (``connected``, ``reconnecting``...)."""
        # Between exit and entry actions the configuration can be empty: never raise
        # StopIteration out of a callback (the engine would swallow it silently).
        return cast(StateName, next((s.id for s in self.configuration if s.parent is None), ""))

    @property
    def detail(self) -> str:
        """The innermost active state (``backing_off``, ``restoring``...)."""
        atomic = [s for s in self.configuration if not s.states]
        return atomic[0].id if atomic else self.state

    @property
    def media(self) -> bool:
        return self.ports.media is not None

    @property
    def resumed(self) -> bool:
        """The last join resumed the server-kept session."""
        return self.plan.resumed

    @property
    def degraded_reason(self) -> str | None:
        return self.plan.degraded_reason

    @property
    def step(self) -> Step | None:
        """The session step in progress, if any."""
        plan = self.plan
        if self.detail in ("establishing", "restoring") and plan.index < len(plan.steps):
            return plan.current
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

        def reply(result: Result[Any]) -> None:
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
        for observer in self.observers:
            for typed in self.transition_events:
                observer(typed)

    def _note_error(self, error: PttError | None) -> None:
        if error is not None:
            self.last_error = error
            self.reason = str(error)


def _top(state: State) -> str:
    while state.parent is not None:
        state = state.parent
    return state.id
