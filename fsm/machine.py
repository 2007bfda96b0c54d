"""Guards and actions of the connection lifecycle (the chart is :mod:`fsm.chart`).

The states and transitions are declared in :mod:`fsm.chart` (read that first); this
module holds the guards and the link, auth, connected, reconnecting and ending actions.
The rest is in mixins, one concept each: :mod:`fsm.session` (the session steps),
:mod:`fsm.messages` (user messages and the outbox), :mod:`fsm.talk` (talk and floor),
:mod:`fsm.channel_actions` (the channel picture), on top of :mod:`fsm.core` (data,
generations, timers, typed events).

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

from collections.abc import Callable, Iterable
from typing import Any

from statemachine import State

from .bindings import _LinkBinding
from .chart import LifecycleChart
from .classify import Verdict
from .core import _top
from .domain import FloorLost
from .errors import (
    AuthError,
    Cause,
    LinkError,
    MediaTimeout,
    OperationTimeout,
    ProtocolViolation,
    PttError,
)
from .events import (
    ChannelChanged,
    ErrorRaised,
    PttEvent,
    Reconnected,
    ReconnectFailed,
    Reconnecting,
)
from .ports import Ports, Tone
from .session import SessionSteps
from .settings import Settings


class ConnectionMachine(LifecycleChart, SessionSteps):
    """The push-to-talk connection lifecycle. Construct with :class:`Settings` and
    :class:`Ports`; drive it with ``send(event, **data)``; observe it with listeners.

    The states and transitions are declared in :class:`fsm.chart.LifecycleChart`; this
    class and its mixins hold the guards and actions they name."""

    def __init__(
        self,
        settings: Settings,
        ports: Ports,
        *,
        observers: Iterable[Callable[[PttEvent], None]] = (),
        **kwargs: Any,
    ) -> None:
        """``observers`` get each typed event after its transition (see also ``listeners``,
        python-statemachine's own mechanism, which costs more memory per instance)."""
        self._init_core(settings, ports)
        self.observers.extend(observers)
        #: Consecutive protocol failures already retried (reset by any other failure, a
        #: new connect and a stable session); read by the pure ``protocol_exhausted``.
        self._protocol_streak = 0
        #: ``attempt`` when the current outage began: ``Reconnected.attempts`` is this
        #: episode's share, although ``attempt`` only resets after a stable session.
        self._episode_first_attempt = 0
        super().__init__(**kwargs)

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

    def protocol_exhausted(self, error: PttError | None = None) -> bool:
        return self.settings.failures.protocol_exhausted(error, self._protocol_streak)

    def note_protocol_exhausted(self, error: PttError | None = None) -> None:
        violation = ProtocolViolation(
            f"the server broke the protocol {self._protocol_streak + 1} times in a row: {error}"
        )
        violation.__cause__ = error
        self._error_override = violation

    def on_connect(self, token: str | None = None) -> None:
        self._start_network_watch()
        if token:
            self.token = token
        self.refreshed_token = False
        self.attempt = 0
        self._protocol_streak = 0
        self.reason = None
        self.last_error = None

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

    def _close_link(self) -> None:
        if self._link_state != "closed":
            self._bump("link")
            self._link_state = "closed"
            self.ports.signaling.close()

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

    def on_enter_connected(self, source: State) -> None:
        self.refreshed_token = False
        self.next_delay = None
        self.reason = self.plan.degraded_reason
        self._arm("stable", self.settings.stable_after, "session_stable")
        media = self.ports.media
        if media is not None:
            media.expect_audio(self.channel.remote_speaking())
            if frozenset(self.channel.sources) != self._followed:
                self._follow_sources()  # sources changed while the plan was running
        if _top(source) == "reconnecting":
            if self.ports.audio is not None:
                self.ports.audio.play_tone(Tone.LINK_RESTORED)
            now = self.ports.clock.now()
            downtime = now - self._outage_started if self._outage_started is not None else 0.0
            self.metrics["recoveries"] += 1
            self.metrics["last_recovery_seconds"] = downtime
            plan = self.plan
            attempts = self.attempt - self._episode_first_attempt
            self._emit(Reconnected(attempts, downtime, plan.resumed, plan.degraded_reason))
        self._outage_started = None
        self.floor.held_since_before_outage = False
        self._schedule_flush()  # what the restore's first batch did not release

    def on_exit_connected(self) -> None:
        self._disarm("stable")
        self._disarm("flush")

    def reset_attempts(self) -> None:
        self.attempt = 0
        self._episode_first_attempt = 0
        self._protocol_streak = 0

    def note_outage(self) -> None:
        """Leaving ``connected`` for a reconnect: one outage, one tone, floor gone."""
        self.floor.forget_outage()
        self._disarm("talk_time")
        if self.ports.media is not None:
            self.ports.media.set_transmitting(False)
            self.ports.media.expect_audio(False)
        if self.ports.audio is not None:
            self.ports.audio.play_tone(Tone.LINK_LOST)

    def note_stalled_uplink(self, tx_id: str | None = None) -> None:
        data = {"tx_id": tx_id, "reason": FloorLost.STALLED_UPLINK.value}
        self._emit(ChannelChanged("floor_lost", data, self.channel.speaker))
        self.note_outage()
        self._media_dead = True  # rebuild the media even if the server resumes us
        self._note_error(MediaTimeout("the server heard no audio from us: uplink stalled"))

    def note_media_dead(self) -> None:
        self._media_dead = True

    def on_enter_backing_off(self, error: PttError | None = None) -> None:
        self._close_link()
        # media_failed and deadline_passed have no handler that notes their error: without
        # this the retry would be announced with the previous (or no) reason.
        self._note_error(error)
        protocol = self.settings.failures.is_protocol_failure(error)
        self._protocol_streak = self._protocol_streak + 1 if protocol else 0
        retry_after = getattr(error, "retry_after", None) if error is not None else None
        # A server that says when to come back (503 + Retry-After, a restart hint) is
        # scheduling us, not failing: the attempt does not grow and the wait is the
        # server's (floored by a first attempt's delay), not an escalated backoff.
        if retry_after is None or self.attempt == 0:
            self.attempt += 1
        scheduled_attempt = 1 if retry_after is not None else self.attempt
        self.next_delay = self.settings.backoff.delay(scheduled_attempt, retry_after)
        now = self.ports.clock.now()
        self._retry_not_before = now + self.next_delay if retry_after is not None else None
        self._arm("retry", self.next_delay, "retry_due")
        cause = self.reason or "link lost"
        self._emit(Reconnecting(self.attempt, self.next_delay, cause))

    def on_exit_backing_off(self) -> None:
        self._disarm("retry")
        self._disarm("network_hint")

    def on_enter_reconnecting(self) -> None:
        if self._outage_started is None:
            self._outage_started = self.ports.clock.now()
            self.metrics["episodes"] += 1
            self._episode_first_attempt = self.attempt

    def say_goodbye(self) -> None:
        """The user disconnects: stop talking, leave the channel, close cleanly."""
        if self._link_state == "open":
            if self.floor.active and self.floor.tx_id is not None:
                self.ports.signaling.release_floor(self.floor.tx_id)
            self.ports.signaling.leave()
        self.reason = "disconnect requested"
        self.channel.resume_id = None  # an explicit leave ends the server-kept session

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
        self._release_all()
        self._emit(ErrorRaised(self.reason or "error", guidance))

    def _release_all(self) -> None:
        self._stop_network_watch()
        for name in list(self._timers):
            self._disarm(name)
        for kind in ("step", "auth", "media", "floor", "follow"):
            self._bump(kind)
        self._close_link()
        if self.ports.tokens is not None:
            self.ports.tokens.cancel()
        if self.ports.media is not None:
            self.ports.media.close()
        if self.ports.audio is not None and self._audio_started:
            self.ports.audio.stop()
        self._audio_started = False
        self._media_dead = False
        self._outage_started = None
        self.floor.reset()
        self.next_delay = None


def _guidance_for(machine: ConnectionMachine, error: PttError | None) -> str:
    found = machine.settings.failures.guidance_for(error)
    if found:
        return found
    if machine.settings.failures.is_auth_failure(error):
        return "log in again to get a new token"
    if (isinstance(error, LinkError) and error.status == 403) or (
        getattr(error, "cause", None) is Cause.FORBIDDEN
    ):
        return "this token does not grant access to the channel; ask for access"
    return "see the reason; fix it and connect again"
