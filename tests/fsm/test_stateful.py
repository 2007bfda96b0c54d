"""Hypothesis drives random input sequences and checks the machine's invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .drive import Rig
from .test_paths import MACROS, _fresh

TERMINAL = ("idle", "disconnected", "error")
INTERRUPTS = ["disconnect", "reconnect_now", "lose_transient", "media_fail", "press"]


class EventLog:
    def __init__(self) -> None:
        self.events: list[str] = []

    def after_transition(self, event: object) -> None:
        self.events.append(str(getattr(event, "id", event)))


class LifecycleModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rig: Rig = _fresh(max_attempts=None)[0]
        self.log = EventLog()
        self.rig.machine.add_listener(self.log)
        self.last_attempt = 0

    @rule(name=st.sampled_from(sorted(MACROS)))
    def act(self, name: str) -> None:
        self.log.events.clear()
        MACROS[name](self.rig)

    @rule()
    def progress(self) -> None:
        """The happy next step for the current state, so random runs reach deep states."""
        self.log.events.clear()
        detail = self.rig.machine.detail
        step = {
            "idle": "connect",
            "disconnected": "connect",
            "error": "connect",
            "dialing": "open_ok",
            "redialing": "open_ok",
            "authenticating": "token_ok",
            "reauthenticating": "token_ok",
            "establishing": "finish",
            "restoring": "finish",
            "backing_off": "timer",
            "ready": "lose_transient",
            "degraded": "lose_transient",
        }[detail]
        MACROS[step](self.rig)

    @rule(name=st.sampled_from(INTERRUPTS))
    def interrupt(self, name: str) -> None:
        """The inputs that cut operations short, drawn more often than the rest."""
        self.log.events.clear()
        MACROS[name](self.rig)

    @precondition(lambda self: self.rig.machine.state == "connected")
    @rule(name=st.sampled_from(["press", "grant", "deny", "release"]))
    def talk(self, name: str) -> None:
        """The talk button and the floor's answers, often enough to hold the floor."""
        self.log.events.clear()
        MACROS[name](self.rig)

    @rule(seconds=st.floats(min_value=0.0, max_value=40.0))
    def wait(self, seconds: float) -> None:
        self.log.events.clear()
        self.rig.fakes.clock.advance(seconds)

    @precondition(lambda self: self.rig.machine.state in ("connecting", "reconnecting"))
    @rule(count=st.integers(min_value=1, max_value=160))
    def send_many(self, count: int) -> None:
        self.log.events.clear()
        for i in range(count):
            self.rig.send("send_message", data={"i": i})

    @invariant()
    def timers_are_accounted_for(self) -> None:
        machine, clock = self.rig.machine, self.rig.fakes.clock
        # Every pending clock timer belongs to a named machine timer: none leaked.
        assert len(clock.pending()) == len(machine.pending_timers())
        if machine.detail == "backing_off":
            assert machine.pending_timers() == ("retry",)
        else:
            assert "retry" not in machine.pending_timers()

    @invariant()
    def nothing_alive_when_not_connecting(self) -> None:
        machine, fakes = self.rig.machine, self.rig.fakes
        if machine.state in TERMINAL:
            assert machine.pending_timers() == ()
            assert not fakes.signaling.active
            assert not fakes.media.alive
        if machine.state == "disconnected":
            # The user said goodbye: nothing queued survives. (``error`` keeps the queue for
            # a reconnect with a fresh token: a user message is never silently lost.)
            assert len(machine.outbox) == 0

    @invariant()
    def attempts_reset_only_after_stable_session(self) -> None:
        attempt = self.rig.machine.attempt
        if attempt < self.last_attempt:
            assert {"session_stable", "connect"} & set(self.log.events), self.log.events
        self.last_attempt = attempt

    @invariant()
    def outbox_bounded(self) -> None:
        assert len(self.rig.machine.outbox) <= 100

    @invariant()
    def never_transmitting_without_floor(self) -> None:
        machine, fakes = self.rig.machine, self.rig.fakes
        if fakes.media.transmitting:
            assert machine.floor.granted
            assert machine.floor.held
            assert machine.state == "connected"


LifecycleModel.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLifecycle = LifecycleModel.TestCase
