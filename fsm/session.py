"""The session steps as transition actions: one plan, run step by step, for both the
first connect (``establishing``) and every restore (``restoring``)."""

from __future__ import annotations

from typing import Any

from .bindings import _MediaBinding
from .classify import Verdict
from .domain import FloorAnswer, Joined
from .errors import LinkError, OperationTimeout, ProtocolViolation, PttError, TransportError
from .network import NetworkActions
from .plan import DEGRADABLE, Plan, Step
from .ports import Reply, Result


class SessionSteps(NetworkActions):
    # --- guards of the step transitions (pure) ---------------------------------------------
    def has_next_step(self) -> bool:
        return self.plan.has_next

    def was_degraded(self) -> bool:
        return self.plan.degraded_reason is not None

    def may_retry_step(self, error: PttError | None = None) -> bool:
        return (
            self.step is not None
            and self.plan.may_retry()
            and self.settings.failures.verdict(error) is not Verdict.FATAL
        )

    def step_exhausted(self) -> bool:
        return self.step is not None and self.plan.exhausted()

    def is_degradable(self, error: PttError | None = None) -> bool:
        return self.step in DEGRADABLE and not isinstance(error, LinkError)

    # --- actions ------------------------------------------------------------------------
    def on_enter_establishing(self) -> None:
        self._start_plan()

    def on_enter_restoring(self) -> None:
        self._start_plan()

    def on_exit_establishing(self) -> None:
        self._bump("step")
        self._disarm("deadline")

    on_exit_restoring = on_exit_establishing

    def _start_plan(self) -> None:
        self.plan = Plan.start(media=self.media)
        self._run_step()

    def next_step(self, value: Any = None) -> None:
        self._record(self.plan.current, value)
        self.plan.advance()
        self._run_step()

    def retry_step(self, error: PttError | None = None) -> None:
        self.plan.note_retry()
        self._note_error(error)
        self._run_step()

    def degrade_and_next(self, error: PttError | None = None) -> None:
        self.plan.degraded_reason = f"{self.plan.current.value} failed: {error}"
        if self.plan.has_next:
            self.plan.advance()
            self._run_step()
        else:  # the last step can only be the outbox flush, which never fails
            self._complete_step(None)

    def finish_plan(self, value: Any = None) -> None:
        self._record(self.plan.current, value)

    def on_step_failed(self, error: PttError | None = None) -> None:
        self._note_error(error)

    def note_step_exhausted(self, error: PttError | None = None) -> None:
        # Runs after the exit actions, when ``self.step`` no longer reads the configuration.
        self._error_override = TransportError(
            f"{self.plan.current.value} failed again after a retry: {error}",
            guidance="check the network path to the media server (UDP) and connect again",
        )

    def _complete_step(self, value: Any) -> None:
        """Finish a step that needed no I/O, through the same event as any other step."""
        self._reply_to("step", "step_succeeded", "step_failed")(Result(value))

    def _run_step(self) -> None:
        step = self.plan.current
        self._arm(
            "deadline",
            self.settings.step_timeout,
            "step_failed",
            error=OperationTimeout(f"session step {step.value} took too long"),
        )
        reply = self._reply_to("step", "step_succeeded", "step_failed")
        signaling, media, audio = self.ports.signaling, self.ports.media, self.ports.audio
        if step is Step.JOIN:
            signaling.join(self.channel.name, self.channel.resume_id, _expect_joined(reply))
        elif self.plan.skips(step):
            self._complete_step("skipped")
        elif step is Step.CLOSE_MEDIA and media is not None:
            media.close()
            self._media_dead = False
            self._complete_step(None)
        elif step is Step.CONNECT_MEDIA and media is not None:
            media.connect(_MediaBinding(self, self._bump("media")), reply)
        elif step is Step.OPEN_AUDIO and audio is not None and not self._audio_started:
            audio.start(reply)
        elif step is Step.ATTACH_MICROPHONE and media is not None:
            media.attach_microphone(reply)
        elif step is Step.FOLLOW_SOURCES and media is not None:
            self._followed = frozenset(self.channel.sources)
            media.follow(self.channel.sources, reply)
        elif step is Step.REQUEST_FLOOR and self.floor.held and self.floor.held_since_before_outage:
            signaling.request_floor(self.floor.request(), reply)
        elif step is Step.FLUSH_OUTBOX:
            self._flush_outbox()
            self._complete_step(None)
        else:  # audio already open, the button not held, or a port this run does not have
            self._complete_step("skipped")

    def _record(self, step: Step, value: Any) -> None:
        """Apply a finished step's result to the model."""
        if value == "skipped":
            return
        if step is Step.JOIN:
            self._apply_join(value)
        elif step is Step.OPEN_AUDIO:
            self._audio_started = True
        elif step is Step.REQUEST_FLOOR and isinstance(value, FloorAnswer):
            self._apply_floor_answer(value)

    def _apply_join(self, joined: Any) -> None:
        if not isinstance(joined, Joined):
            return  # only a test sends this by hand: real answers pass _expect_joined
        resumed = joined.resumed and joined.resume_id == self.channel.resume_id
        media = self.ports.media
        alive = media is not None and media.is_alive() and not self._media_dead
        self.plan.decide_resume(resumed=resumed, media_alive=alive, features=self.features)
        self.channel.apply_joined(joined)


def _expect_joined(reply: Reply) -> Reply:
    """A join that succeeds with anything but a :class:`Joined` is a backend's protocol
    violation: a failed step (retried like any other fault), never a half-known session."""

    def check(result: Result[Any]) -> None:
        if result.ok and not isinstance(result.value, Joined):
            kind = type(result.value).__name__
            result = Result(error=ProtocolViolation(f"join answered {kind}, not a Joined"))
        reply(result)

    return check
