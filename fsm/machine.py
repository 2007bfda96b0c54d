"""Guards and actions of the connection lifecycle (the chart is :mod:`fsm.chart`).

The states and transitions are declared in :mod:`fsm.chart` (read that first); this
module holds what the guards and actions do.

* Every adapter call happens in a transition action (entry/exit/``on``). Port calls only
  *start* work; results come back as events (``link_opened``, ``step_succeeded``...), so
  the machine never waits and ``disconnect`` always takes effect at once.
* Each started operation gets a generation number; a report from a superseded operation
  (a late close, the reply to a cancelled request) is dropped here, before the machine
  sees it.
* Guards are pure: the :class:`~fsm.classify.FailureTable` says whether a failure is
  fatal, final or retryable; the backoff policy says how long to wait.
* Exit actions clean up what their state started: the backoff timer, the watchdog, the
  link being opened, the token refresh. ``disconnected`` and ``error`` release everything.
* Talk intent (is the button held?) is state, not a queued message: a restore requests
  the floor only if the user still holds the button.
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from statemachine import State

from .chart import LifecycleChart
from .classify import Verdict
from .errors import (
    AuthError,
    LinkError,
    OperationTimeout,
    PttError,
    RequestFailed,
    TransportError,
)
from .events import (
    ChannelChanged,
    ErrorRaised,
    PttEvent,
    Reconnected,
    ReconnectFailed,
    Reconnecting,
    StateChanged,
)
from .outbox import PTT_START, PTT_STOP, Outbox, Outgoing
from .ports import Ports, Reply, Result, Timer, Tone
from .settings import Settings
from .steps import DEGRADABLE, MEDIA_REBUILD, RETRIED_ONCE, Step, session_plan

log = structlog.get_logger("ptt.machine")

#: Close code we send when the user disconnects.
CLOSE_NORMAL = 1000

#: Server notifications that only update the channel picture.
CHANNEL_NOTIFICATIONS = frozenset({"speakerChanged", "peerJoined", "peerLeft"})


@dataclass
class Channel:
    """What we know of the channel: members, who holds the floor, remote producers."""

    name: str
    session_id: str | None = None
    peer_id: str | None = None
    members: set[str] = field(default_factory=set)
    speaker: str | None = None
    producers: dict[str, str] = field(default_factory=dict)  # producer id -> peer id


@dataclass
class Talk:
    """Talk intent and floor: the button is held or not; the floor is ours or not."""

    held: bool = False
    held_since_before_outage: bool = False
    tx_id: str | None = None
    floor: str = "none"  # none | requested | granted


class _LinkBinding:
    """The events object handed to one ``Signaling.open``; dropped once superseded."""

    def __init__(self, machine: ConnectionMachine, generation: int) -> None:
        self._m = machine
        self._gen = generation

    def _post(self, event: str, **data: Any) -> None:
        self._m._post_if_current("link", self._gen, event, **data)

    def opened(self) -> None:
        self._post("link_opened")

    def failed(self, error: LinkError) -> None:
        self._post("link_failed", error=error)

    def lost(self, error: LinkError) -> None:
        self._post("link_lost", error=error)

    def notification(self, method: str, data: Mapping[str, Any]) -> None:
        event, kwargs = _notification_event(method, data)
        if event is not None:
            self._post(event, **kwargs)


class _MediaBinding:
    def __init__(self, machine: ConnectionMachine, generation: int) -> None:
        self._m = machine
        self._gen = generation

    def failed(self, error: TransportError) -> None:
        self._m._post_if_current("media", self._gen, "media_failed", error=error)


def _notification_event(method: str, data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Map a server notification to a machine event (unknown ones are dropped)."""
    if method == "newProducer":
        return "producer_added", {"data": data}
    if method == "producerClosed":
        return "producer_closed", {"data": data}
    if method in ("floorGranted", "floorDenied", "floorRevoked"):
        name = {"floorGranted": "floor_granted", "floorDenied": "floor_denied"}.get(
            method, "floor_revoked"
        )
        return name, {"data": data}
    if method in CHANNEL_NOTIFICATIONS:
        return "channel_updated", {"kind": method, "data": data}
    if method == "message":
        return "message_received", {"data": data}
    return None, {}


class ConnectionMachine(LifecycleChart):
    """The push-to-talk connection lifecycle. Construct with :class:`Settings` and
    :class:`Ports`; drive it with ``send(event, **data)``; observe it with listeners.

    The states and transitions are declared in :class:`fsm.chart.LifecycleChart`; this
    class holds the guards and actions they name."""

    # ======================================================================================
    def __init__(self, settings: Settings, ports: Ports, **kwargs: Any) -> None:
        self.settings = settings
        self.ports = ports
        self.token = settings.token
        self.channel = Channel(settings.channel)
        self.talk = Talk()
        self.outbox = Outbox(settings.outbox_capacity, settings.ptt_stale_after)
        #: Reconnect attempt number (0 while none); reset after a stable restore.
        self.attempt = 0
        self.next_delay: float | None = None
        self.reason: str | None = None
        self.last_error: PttError | None = None
        self.degraded_reason: str | None = None
        self.refreshed_token = False
        self.resumed = False
        #: Typed events produced by the transition in progress (read by listeners).
        self.transition_events: tuple[PttEvent, ...] = ()
        self.metrics: dict[str, float] = {
            "episodes": 0,
            "attempts": 0,
            "recoveries": 0,
            "last_recovery_seconds": 0.0,
        }
        self._pending: list[PttEvent] = []
        self._generations: Counter[str] = Counter()
        self._timers: dict[str, Timer] = {}
        self._link_state = "closed"  # closed | opening | open
        self._plan: tuple[Step, ...] = ()
        self._step_index = 0
        self._step_retries: dict[Step, int] = {}
        self._capabilities: Mapping[str, Any] = {}
        self._media_dead = False
        self._signal_only = False  # this plan skips the media rebuild (decided at join)
        self._audio_started = False
        self._outage_started: float | None = None
        self._gave_up = False
        self._error_override: PttError | None = None
        self._tx_counter = itertools.count(1)
        self._msg_counter = itertools.count(1)
        self._client_id = secrets.token_hex(4)
        super().__init__(**kwargs)

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

    # --- plumbing: generations, timers, typed events --------------------------------------
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

    # --- guards (pure, sync) --------------------------------------------------------------
    def is_fatal(self, error: PttError | None = None) -> bool:
        return self.settings.failures.verdict(error) is Verdict.FATAL

    def is_final(self, error: PttError | None = None) -> bool:
        return self.settings.failures.verdict(error) is Verdict.FINAL

    def can_refresh_token(self, error: PttError | None = None) -> bool:
        return (
            self.ports.tokens is not None
            and not self.refreshed_token
            and self.settings.failures.is_auth_failure(error)
        )

    def gave_up(self) -> bool:
        limit = self.settings.backoff.max_attempts
        return limit is not None and self.attempt >= limit

    def has_next_step(self) -> bool:
        return self._step_index + 1 < len(self._plan)

    def was_degraded(self) -> bool:
        return self.degraded_reason is not None

    def may_retry_step(self, error: PttError | None = None) -> bool:
        step = self.step
        return (
            step in RETRIED_ONCE
            and self._step_retries.get(step, 0) == 0
            and self.settings.failures.verdict(error) is not Verdict.FATAL
        )

    def step_exhausted(self) -> bool:
        step = self.step
        return step in RETRIED_ONCE and self._step_retries.get(step, 0) >= 1

    def is_degradable(self, error: PttError | None = None) -> bool:
        return self.step in DEGRADABLE and not isinstance(error, LinkError)

    # --- idle / connect -------------------------------------------------------------------
    def on_connect(self, token: str | None = None) -> None:
        if token:
            self.token = token
        self.refreshed_token = False
        self.attempt = 0
        self.reason = None
        self.last_error = None

    # --- connecting -----------------------------------------------------------------------
    def on_enter_dialing(self) -> None:
        self._open_link()

    def on_exit_dialing(self) -> None:
        self._disarm("deadline")
        if self._link_state == "opening":
            self._close_link()

    def on_enter_redialing(self) -> None:
        self.metrics["attempts"] += 1
        self._open_link()

    def on_exit_redialing(self) -> None:
        self.on_exit_dialing()

    def _open_link(self) -> None:
        self._close_link()
        self._link_state = "opening"
        generation = self._bump("link")
        self.ports.signaling.open(self.settings.url, self.token, _LinkBinding(self, generation))
        self._arm(
            "deadline",
            self.settings.connect_timeout,
            "deadline_passed",
            error=OperationTimeout(f"connect took longer than {self.settings.connect_timeout} s"),
        )

    def _close_link(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        if self._link_state != "closed":
            self._bump("link")
            self._link_state = "closed"
            self.ports.signaling.close(code, reason)

    def before_link_opened(self) -> None:
        self._link_state = "open"  # before the exit actions, which close an unopened link

    def on_link_failed(self, error: PttError | None = None) -> None:
        self._link_state = "closed"
        self._note_error(error)

    def on_link_lost(self, error: PttError | None = None) -> None:
        self._link_state = "closed"
        self._note_error(error)

    def on_deadline_passed(self, error: PttError | None = None) -> None:
        self._note_error(error)

    def on_enter_authenticating(self) -> None:
        self._close_link()
        tokens = self.ports.tokens
        assert tokens is not None  # guarded by can_refresh_token
        self.refreshed_token = True
        tokens.refresh(self._reply_to("auth", "token_refreshed", "token_refresh_failed"))
        self._arm(
            "deadline",
            self.settings.auth_timeout,
            "deadline_passed",
            error=OperationTimeout("token refresh took too long"),
        )

    def on_exit_authenticating(self) -> None:
        self._disarm("deadline")
        if self._bump("auth") and self.ports.tokens is not None:
            self.ports.tokens.cancel()

    on_enter_reauthenticating = on_enter_authenticating
    on_exit_reauthenticating = on_exit_authenticating

    def use_token(self, value: Any = None) -> None:
        if isinstance(value, str) and value:
            self.token = value

    def on_token_refresh_failed(self, error: PttError | None = None) -> None:
        self._note_error(error or AuthError("token refresh failed"))

    # --- session steps --------------------------------------------------------------------
    def on_enter_establishing(self) -> None:
        self._start_plan()

    def on_enter_restoring(self) -> None:
        self._start_plan()

    def on_exit_establishing(self) -> None:
        self._bump("step")
        self._disarm("deadline")

    on_exit_restoring = on_exit_establishing

    def _start_plan(self) -> None:
        self._plan = session_plan(media=self.media)
        self._step_index = 0
        self._step_retries = {}
        self.degraded_reason = None
        self.resumed = False
        self._signal_only = False
        self._run_step()

    def next_step(self, value: Any = None) -> None:
        self._record(self._plan[self._step_index], value)
        self._step_index += 1
        self._run_step()

    def retry_step(self, error: PttError | None = None) -> None:
        step = self._plan[self._step_index]
        self._step_retries[step] = self._step_retries.get(step, 0) + 1
        self._note_error(error)
        self._run_step()

    def degrade_and_next(self, error: PttError | None = None) -> None:
        step = self._plan[self._step_index]
        self.degraded_reason = f"{step.value} failed: {error}"
        if self.has_next_step():
            self._step_index += 1
            self._run_step()
        else:  # the last step can only be the outbox flush, which never fails
            self._complete_step(None)

    def finish_plan(self, value: Any = None) -> None:
        self._record(self._plan[self._step_index], value)

    def on_step_failed(self, error: PttError | None = None) -> None:
        self._note_error(error)

    def note_step_exhausted(self, error: PttError | None = None) -> None:
        # Runs after the exit actions, when ``self.step`` no longer reads the configuration.
        step = self._plan[self._step_index]
        self._error_override = TransportError(
            f"{step.value} failed again after a retry: {error}",
            guidance="check the network path to the media server (UDP) and connect again",
        )

    def _complete_step(self, value: Any) -> None:
        """Finish a step that needed no I/O, through the same event as any other step."""
        self._reply_to("step", "step_succeeded", "step_failed")(Result(value))

    def _run_step(self) -> None:  # noqa: PLR0912 - one branch per step reads like the plan
        step = self._plan[self._step_index]
        self._arm(
            "deadline",
            self.settings.step_timeout,
            "step_failed",
            error=OperationTimeout(f"session step {step.value} took too long"),
        )
        reply = self._reply_to("step", "step_succeeded", "step_failed")
        signaling, transports, audio = self.ports.signaling, self.ports.transports, self.ports.audio
        signal_only = self._signal_only
        if step is Step.JOIN:
            data: dict[str, Any] = {"channel": self.channel.name}
            if self.channel.session_id:
                data["session_id"] = self.channel.session_id
            signaling.request("join", data, reply)
        elif step in MEDIA_REBUILD and signal_only:
            self._complete_step("skipped")
        elif step is Step.LOAD_CAPABILITIES:
            signaling.request("getRouterRtpCapabilities", {}, reply)
        elif step is Step.CLOSE_TRANSPORTS:
            if transports is not None:
                transports.close()
            self._media_dead = False
            self._complete_step(None)
        elif step is Step.CREATE_TRANSPORTS and transports is not None:
            media = _MediaBinding(self, self._bump("media"))
            transports.create(self._capabilities, media, reply)
        elif step is Step.OPEN_AUDIO:
            if audio is None or self._audio_started:
                self._complete_step("skipped")
            else:
                audio.start(reply)
        elif step is Step.PRODUCE and transports is not None:
            transports.produce(reply)
        elif step is Step.CONSUME and transports is not None:
            transports.consume(sorted(self.channel.producers), reply)
        elif step is Step.REQUEST_FLOOR:
            if self.talk.held and self.talk.held_since_before_outage:
                self.talk.tx_id = self._new_tx_id()
                self.talk.floor = "requested"
                signaling.request("pttStart", {"tx_id": self.talk.tx_id}, reply)
            else:
                self._complete_step("skipped")
        elif step is Step.FLUSH_OUTBOX:
            self._flush_outbox()
            self._complete_step(None)
        else:  # pragma: no cover - media steps without a transports port are not planned
            self._complete_step("skipped")

    def _record(self, step: Step, value: Any) -> None:
        """Apply a finished step's result to the model."""
        if value == "skipped":
            return
        if step is Step.JOIN and isinstance(value, Mapping):
            self._apply_join(value)
        elif step is Step.LOAD_CAPABILITIES and isinstance(value, Mapping):
            self._capabilities = value
        elif step is Step.OPEN_AUDIO:
            self._audio_started = True
        elif step is Step.REQUEST_FLOOR and isinstance(value, Mapping):
            self._apply_floor_answer(bool(value.get("granted")), value)

    def _apply_join(self, value: Mapping[str, Any]) -> None:
        channel = self.channel
        session_id = value.get("session_id")
        self.resumed = bool(value.get("resumed")) and session_id == channel.session_id
        # Decided once per plan, from what survived the outage: a rebuild must run to its
        # end, although the transports it creates are alive again when ``produce`` runs.
        transports = self.ports.transports
        alive = transports is not None and transports.is_alive() and not self._media_dead
        self._signal_only = self.resumed and alive
        channel.session_id = session_id if isinstance(session_id, str) else None
        peer = value.get("peer_id")
        channel.peer_id = peer if isinstance(peer, str) else None
        members = value.get("members")
        channel.members = (
            {m for m in members if isinstance(m, str)} if isinstance(members, list) else set()
        )
        speaker = value.get("speaker")
        channel.speaker = speaker if isinstance(speaker, str) else None
        channel.producers = {}
        producers = value.get("producers")
        for item in producers if isinstance(producers, list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("producer_id"), str):
                channel.producers[item["producer_id"]] = str(item.get("peer_id", ""))

    # --- connected ------------------------------------------------------------------------
    def on_enter_connected(self, source: State) -> None:
        self.refreshed_token = False
        self.next_delay = None
        self.reason = self.degraded_reason
        self._arm("stable", self.settings.stable_after, "session_stable")
        transports = self.ports.transports
        if transports is not None:
            transports.expect_audio(self._remote_speaking())
        if _top(source) == "reconnecting":
            if self.ports.audio is not None:
                self.ports.audio.play_tone(Tone.LINK_RESTORED)
            now = self.ports.clock.now()
            downtime = now - self._outage_started if self._outage_started is not None else 0.0
            self.metrics["recoveries"] += 1
            self.metrics["last_recovery_seconds"] = downtime
            self._emit(Reconnected(self.attempt, downtime, self.resumed, self.degraded_reason))
        self._outage_started = None
        self.talk.held_since_before_outage = False
        self._schedule_flush()  # what the restore's first batch did not release

    def on_exit_connected(self) -> None:
        self._disarm("stable")
        self._disarm("flush")

    def reset_attempts(self) -> None:
        self.attempt = 0

    def note_outage(self) -> None:
        """Leaving ``connected`` for a reconnect: one outage, one tone, floor gone."""
        self.talk.held_since_before_outage = self.talk.held
        self.talk.floor = "none"
        self.talk.tx_id = None
        if self.ports.transports is not None:
            self.ports.transports.set_transmitting(False)
            self.ports.transports.expect_audio(False)
        if self.ports.audio is not None:
            self.ports.audio.play_tone(Tone.LINK_LOST)

    def note_media_dead(self) -> None:
        self._media_dead = True

    # --- talk and floor -------------------------------------------------------------------
    def _new_tx_id(self) -> str:
        return f"tx-{next(self._tx_counter)}"

    def request_floor(self) -> None:
        if self.talk.held:
            return  # a repeated press (key repeat) is not a new transmission
        self.talk.held = True
        self.talk.tx_id = self._new_tx_id()
        self.talk.floor = "requested"
        self.ports.signaling.request(
            "pttStart", {"tx_id": self.talk.tx_id}, self._floor_reply(self.talk.tx_id)
        )

    def release_floor(self) -> None:
        was_talking = self.talk.floor != "none" and self.talk.tx_id is not None
        self.talk.held = False
        if was_talking:
            tx_id = self.talk.tx_id
            self.ports.signaling.request("pttStop", {"tx_id": tx_id}, _ignore)
        self.talk.floor = "none"
        self.talk.tx_id = None
        if self.ports.transports is not None:
            self.ports.transports.set_transmitting(False)

    def queue_press(self) -> None:
        if self.talk.held:
            return
        self.talk.held = True
        self.talk.tx_id = self._new_tx_id()
        self.outbox.put(Outgoing(PTT_START, {"tx_id": self.talk.tx_id}, self.ports.clock.now()))

    def queue_release(self) -> None:
        if not self.talk.held:
            return
        self.talk.held = False
        self.talk.held_since_before_outage = False
        if self.talk.tx_id is not None:
            stop = Outgoing(PTT_STOP, {"tx_id": self.talk.tx_id}, self.ports.clock.now())
            self.outbox.put(stop)
        self.talk.tx_id = None

    def _floor_reply(self, tx_id: str | None) -> Reply:
        generation = self._bump("floor")

        def reply(result: Result) -> None:
            granted = (
                result.ok and isinstance(result.value, Mapping) and result.value.get("granted")
            )
            event = "floor_granted" if granted else "floor_denied"
            data = result.value if result.ok else {"reason": str(result.error)}
            self._post_if_current("floor", generation, event, data=data, tx_id=tx_id)

        return reply

    def take_floor(self, value: Any = None, data: Any = None, tx_id: str | None = None) -> None:
        answer = value if isinstance(value, Mapping) else data if isinstance(data, Mapping) else {}
        if tx_id is None:
            tx_id = answer.get("tx_id") if isinstance(answer.get("tx_id"), str) else None
        if tx_id is not None and tx_id != self.talk.tx_id:
            return  # the answer to an older transmission
        self._apply_floor_answer(bool(answer.get("granted", True)), answer)

    def _apply_floor_answer(self, granted: bool, answer: Mapping[str, Any]) -> None:
        transports, audio = self.ports.transports, self.ports.audio
        if granted and self.talk.held:
            self.talk.floor = "granted"
            self.channel.speaker = self.channel.peer_id
            if transports is not None:
                transports.set_transmitting(True)
            if audio is not None:
                audio.play_tone(Tone.TALK_PERMITTED)
            self._emit(ChannelChanged("floor_granted", answer, self.channel.speaker))
        elif granted:  # released before the grant arrived: give it back
            self.ports.signaling.request("pttStop", {"tx_id": answer.get("tx_id")}, _ignore)
        else:
            self.talk.floor = "none"
            if audio is not None:
                audio.play_tone(Tone.FLOOR_DENIED)
            self._emit(ChannelChanged("floor_denied", answer, self.channel.speaker))

    def lose_floor_request(
        self, error: PttError | None = None, data: Any = None, tx_id: str | None = None
    ) -> None:
        answer = data if isinstance(data, Mapping) else {}
        if tx_id is None and isinstance(answer.get("tx_id"), str):
            tx_id = answer["tx_id"]
        if self.talk.floor != "requested" or (tx_id is not None and tx_id != self.talk.tx_id):
            return  # not waiting for an answer, or the answer to an older transmission
        reason = {"reason": str(error)} if error is not None else answer
        self._apply_floor_answer(False, reason)

    def lose_floor(self, data: Any = None) -> None:
        answer = data if isinstance(data, Mapping) else {}
        if self.talk.floor == "none":
            return
        self.talk.floor = "none"
        if self.ports.transports is not None:
            self.ports.transports.set_transmitting(False)
        if self.ports.audio is not None:
            self.ports.audio.play_tone(Tone.FLOOR_LOST)
        self._emit(ChannelChanged("floor_revoked", answer, self.channel.speaker))

    # --- messages -------------------------------------------------------------------------
    def _new_message(self, method: str, data: Any) -> Outgoing:
        body = dict(data or {})
        body.setdefault("msg_id", f"{self._client_id}-{next(self._msg_counter)}")
        return Outgoing(method, body, self.ports.clock.now())

    def transmit_message(self, method: str = "message", data: Any = None) -> None:
        item = self._new_message(method, data)
        if len(self.outbox):
            self.outbox.put(item)  # behind what is still being released: order is kept
        else:
            self._send_message(item)

    def queue_message(self, method: str = "message", data: Any = None) -> None:
        self.outbox.put(self._new_message(method, data))

    def _send_message(self, item: Outgoing) -> None:
        """Send a user message; if the link dies before the server confirms it, queue it
        again (the server drops the duplicate by ``msg_id`` if the first copy arrived)."""

        def reply(result: Result) -> None:
            error = result.error
            if isinstance(error, (LinkError, OperationTimeout)):
                self.send("message_unconfirmed", item=item)
            elif isinstance(error, RequestFailed) and error.code == "rate_limited":
                self.send("message_unconfirmed", item=item, throttled=True)

        self.ports.signaling.request(item.method, item.data, reply)

    def requeue_message(self, item: Any = None) -> None:
        if isinstance(item, Outgoing):
            self.outbox.put(item)

    def resend_message(self, item: Any = None, throttled: bool = False) -> None:
        # Still connected (a slow answer, or the loss is not reported yet): try again now;
        # if the link is gone this fails fast and lands in the outbox after link_lost.
        # The server said "too fast": queue it and release it with the next batch.
        if not isinstance(item, Outgoing):
            return
        if throttled:
            self.outbox.put(item)
            self._schedule_flush()
        else:
            self._send_message(item)

    def _schedule_flush(self) -> None:
        if len(self.outbox) and "flush" not in self._timers:
            self._arm("flush", self.settings.flush_interval, "outbox_due")

    def flush_more(self) -> None:
        self._flush_outbox()
        self._schedule_flush()

    def _flush_outbox(self) -> None:
        """Release one batch; the rest follows every ``flush_interval`` while connected."""
        batch = self.outbox.drain(self.ports.clock.now(), limit=self.settings.flush_batch)
        for item in batch:
            if item.method == PTT_START and self.talk.held and item.tx_id == self.talk.tx_id:
                self.talk.floor = "requested"
                reply = self._floor_reply(item.tx_id)
                self.ports.signaling.request(item.method, item.data, reply)
            elif item.is_ptt:
                self.ports.signaling.request(item.method, item.data, _ignore)
            else:
                self._send_message(item)

    def note_message(self, data: Any = None) -> None:
        self._emit(ChannelChanged("message", data if isinstance(data, Mapping) else {}))

    # --- channel picture ------------------------------------------------------------------
    def update_channel(self, kind: str = "", data: Any = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        peer = data.get("peer_id")
        if kind == "speakerChanged":
            self.channel.speaker = peer if isinstance(peer, str) else None
            if self.ports.transports is not None and self.state == "connected":
                self.ports.transports.expect_audio(self._remote_speaking())
        elif kind == "peerJoined" and isinstance(peer, str):
            self.channel.members.add(peer)
        elif kind == "peerLeft" and isinstance(peer, str):
            self.channel.members.discard(peer)
        self._emit(ChannelChanged(kind, data, self.channel.speaker))

    def _remote_speaking(self) -> bool:
        speaker = self.channel.speaker
        return speaker is not None and speaker != self.channel.peer_id

    def add_producer(self, data: Any = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        producer = data.get("producer_id")
        if isinstance(producer, str):
            self.channel.producers[producer] = str(data.get("peer_id", ""))
            self._reconcile_consumers()

    def remove_producer(self, data: Any = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        producer = data.get("producer_id")
        if isinstance(producer, str) and self.channel.producers.pop(producer, None) is not None:
            self._reconcile_consumers()

    def _reconcile_consumers(self) -> None:
        transports = self.ports.transports
        if transports is not None and self.state == "connected":
            transports.consume(sorted(self.channel.producers), self._consume_reply())

    def _consume_reply(self) -> Reply:
        generation = self._bump("consume")

        def reply(result: Result) -> None:
            if not result.ok and self._generations["consume"] == generation:
                self.degraded_reason = f"consume failed: {result.error}"

        return reply

    # --- reconnecting ---------------------------------------------------------------------
    def on_enter_backing_off(self, error: PttError | None = None) -> None:
        self._close_link()
        # media_failed and deadline_passed have no handler that notes their error: without
        # this the retry would be announced with the previous (or no) reason.
        self._note_error(error)
        self.attempt += 1
        retry_after = getattr(error, "retry_after", None) if error is not None else None
        self.next_delay = self.settings.backoff.delay(self.attempt, retry_after)
        self._arm("retry", self.next_delay, "retry_due")
        cause = self.reason or "link lost"
        self._emit(Reconnecting(self.attempt, self.next_delay, cause))

    def on_exit_backing_off(self) -> None:
        self._disarm("retry")

    def on_enter_reconnecting(self) -> None:
        if self._outage_started is None:
            self._outage_started = self.ports.clock.now()
            self.metrics["episodes"] += 1

    # --- endings --------------------------------------------------------------------------
    def say_goodbye(self) -> None:
        """The user disconnects: stop talking, leave the channel, close cleanly."""
        if self._link_state == "open":
            if self.talk.floor != "none" and self.talk.tx_id is not None:
                self.ports.signaling.request("pttStop", {"tx_id": self.talk.tx_id}, _ignore)
            self.ports.signaling.request("leave", {"channel": self.channel.name}, _ignore)
        self.reason = "disconnect requested"
        self.channel.session_id = None  # an explicit leave ends the server-kept session

    def on_enter_disconnected(self, error: PttError | None = None) -> None:
        if error is not None and self.is_final(error):
            self.reason = f"server ended the session: {error}"
        self._release_all()
        self.outbox.discard()

    def note_gave_up(self) -> None:
        self._gave_up = True

    def on_enter_error(self, error: BaseException | None = None) -> None:
        if self._gave_up:
            cause = self.last_error or error
            self.reason = f"gave up after {self.attempt} attempts: {cause}"
            self._emit(ReconnectFailed(self.attempt, self.reason))
            guidance = "check the network or the server, then connect again"
        else:
            if self._error_override is not None:
                self._note_error(self._error_override)
            elif isinstance(error, PttError):
                self._note_error(error)
            elif error is not None:  # a bug surfaced through error.execution
                self.reason = f"internal error: {type(error).__name__}: {error}"
            cause = self.last_error
            guidance = getattr(cause, "guidance", "") or _guidance_for(self, cause)
        self._gave_up = False
        self._error_override = None
        self._release_all(code=CLOSE_NORMAL)
        self._emit(ErrorRaised(self.reason or "error", guidance))

    def _release_all(self, code: int = CLOSE_NORMAL) -> None:
        for name in list(self._timers):
            self._disarm(name)
        for kind in ("step", "auth", "media", "floor", "consume"):
            self._bump(kind)
        self._close_link(code)
        if self.ports.tokens is not None:
            self.ports.tokens.cancel()
        if self.ports.transports is not None:
            self.ports.transports.close()
        if self.ports.audio is not None and self._audio_started:
            self.ports.audio.stop()
        self._audio_started = False
        self._media_dead = False
        self._outage_started = None
        self.talk = Talk()
        self.next_delay = None

    def _note_error(self, error: PttError | None) -> None:
        if error is not None:
            self.last_error = error
            self.reason = str(error)


def _ignore(result: Result) -> None:
    """Reply sink for fire-and-forget requests; failures surface as link events."""


def _top(state: State) -> str:
    while state.parent is not None:
        state = state.parent
    return state.id


def _guidance_for(machine: ConnectionMachine, error: PttError | None) -> str:
    if machine.settings.failures.is_auth_failure(error):
        return "log in again to get a new token"
    if isinstance(error, LinkError) and error.status == 403:
        return "this token does not grant access to the channel; ask for access"
    return "see the reason; fix it and connect again"
