"""The session steps as transition actions: one plan, run step by step, for both the
first connect (``establishing``) and every restore (``restoring``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .bindings import _MediaBinding
from .classify import Verdict
from .errors import LinkError, OperationTimeout, PttError, TransportError
from .messages import MessageActions
from .ports import Result
from .steps import DEGRADABLE, MEDIA_REBUILD, RETRIED_ONCE, Step, session_plan


class SessionSteps(MessageActions):
    # --- guards of the step transitions (pure) ---------------------------------------------
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
        names = value.get("names")
        if isinstance(names, Mapping):
            channel.names = {
                k: v for k, v in names.items() if isinstance(k, str) and isinstance(v, str)
            }
        speaker = value.get("speaker")
        channel.speaker = speaker if isinstance(speaker, str) else None
        channel.producers = {}
        producers = value.get("producers")
        for item in producers if isinstance(producers, list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("producer_id"), str):
                channel.producers[item["producer_id"]] = str(item.get("peer_id", ""))
