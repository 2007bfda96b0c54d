"""Drive a ConnectionMachine into any state through the fake adapters (real entry actions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fsm import (
    Cause,
    ConnectionMachine,
    Features,
    FixedSchedule,
    Joined,
    LinkError,
    PttError,
    Settings,
    TransportError,
)
from fsm.backoff import BackoffPolicy
from fsm.observe import Recorder
from fsm.testing import Driver, Fakes, joined_ok

JOIN_OK = joined_ok()
RESUMED = joined_ok(resumed=True)


class TransitionCounter:
    """Counts transitions, including targetless ones that change no state."""

    def __init__(self) -> None:
        self.count = 0

    def after_transition(self) -> None:
        self.count += 1


@dataclass
class Rig:
    machine: ConnectionMachine
    fakes: Fakes
    recorder: Recorder
    counter: TransitionCounter

    @property
    def where(self) -> str:
        m = self.machine
        return m.state if m.detail == m.state else f"{m.state}.{m.detail}"

    def send(self, event: str, **data: Any) -> None:
        self.machine.send(event, **data)

    def calls(self) -> list[str]:
        return self.fakes.log.take()


def make(
    *,
    media: bool = True,
    tokens: bool = True,
    backoff: BackoffPolicy | None = None,
    stable_after: float = 10.0,
    listeners: tuple[object, ...] | None = None,
    features: Features | None = None,
) -> Rig:
    """A machine on fakes; ``listeners`` replaces the default recorder and counter (each
    listener costs construction time, which the path search pays thousands of times)."""
    fakes = Fakes.create()
    recorder = Recorder()
    settings = Settings(
        "ws://ptt.test/ptt",
        "ops",
        token="initial-token",
        backoff=backoff or FixedSchedule((1.0, 2.0, 4.0)),
        stable_after=stable_after,
    )
    counter = TransitionCounter()
    ports = fakes.ports(media=media, tokens=tokens, features=features)
    chosen = [recorder, counter] if listeners is None else list(listeners)
    machine = ConnectionMachine(settings, ports, listeners=chosen)
    return Rig(machine, fakes, recorder, counter)


def finish_steps(
    rig: Rig, *, join: Joined | None = None, attach_error: PttError | None = None
) -> None:
    """Answer every session step in order, as a healthy server and media stack would."""
    Driver(rig.machine, rig.fakes).finish_steps(joined=join, attach_error=attach_error)


def to_connecting_dialing(rig: Rig) -> None:
    rig.send("connect")


def to_connecting_authenticating(rig: Rig) -> None:
    rig.send("connect")
    rig.fakes.signaling.fail_open(LinkError(status=401, cause=Cause.AUTH_INVALID))


def to_connecting_establishing(rig: Rig) -> None:
    rig.send("connect")
    rig.fakes.signaling.complete_open()


def to_connected_ready(rig: Rig) -> None:
    to_connecting_establishing(rig)
    finish_steps(rig)


def to_connected_degraded(rig: Rig) -> None:
    to_connecting_establishing(rig)
    finish_steps(rig, attach_error=TransportError("microphone refused"))


def to_reconnecting_backing_off(rig: Rig) -> None:
    to_connected_ready(rig)
    rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))


def to_reconnecting_redialing(rig: Rig) -> None:
    to_reconnecting_backing_off(rig)
    rig.fakes.clock.run_next()


def to_reconnecting_reauthenticating(rig: Rig) -> None:
    to_reconnecting_redialing(rig)
    rig.fakes.signaling.fail_open(LinkError(status=401, cause=Cause.AUTH_INVALID))


def to_reconnecting_restoring(rig: Rig) -> None:
    to_reconnecting_redialing(rig)
    rig.fakes.signaling.complete_open()


def to_disconnected(rig: Rig) -> None:
    rig.send("connect")
    rig.send("disconnect")


def to_error(rig: Rig) -> None:
    rig.send("connect")
    rig.fakes.signaling.fail_open(LinkError(status=403, cause=Cause.FORBIDDEN))


DRIVERS: dict[str, Callable[[Rig], None]] = {
    "idle": lambda rig: None,
    "connecting.dialing": to_connecting_dialing,
    "connecting.authenticating": to_connecting_authenticating,
    "connecting.establishing": to_connecting_establishing,
    "connected.ready": to_connected_ready,
    "connected.degraded": to_connected_degraded,
    "reconnecting.backing_off": to_reconnecting_backing_off,
    "reconnecting.redialing": to_reconnecting_redialing,
    "reconnecting.reauthenticating": to_reconnecting_reauthenticating,
    "reconnecting.restoring": to_reconnecting_restoring,
    "disconnected": to_disconnected,
    "error": to_error,
}


def rig_in(state: str, **options: Any) -> Rig:
    rig = make(**options)
    DRIVERS[state](rig)
    assert rig.where == state, f"driver for {state} ended in {rig.where}"
    rig.fakes.log.clear()
    rig.recorder.events.clear()
    rig.counter.count = 0
    return rig
