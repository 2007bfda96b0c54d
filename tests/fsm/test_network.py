"""The network watcher's reports in the machine: skip the wait, probe, never too often."""

from __future__ import annotations

from fsm import (
    Cause,
    ConnectionMachine,
    FixedSchedule,
    LinkError,
    NetworkChange,
    Reconnecting,
    Settings,
)
from fsm.observe import Recorder
from fsm.testing import Driver, Fakes

UP, ROUTE, DOWN = NetworkChange.UP, NetworkChange.ROUTE_CHANGED, NetworkChange.DOWN


def _rig(delay: float = 30.0) -> tuple[ConnectionMachine, Fakes, Recorder]:
    fakes = Fakes.create()
    seen = Recorder()
    settings = Settings("ws://ptt.test:8080/ptt", "ops", token="t", backoff=FixedSchedule((delay,)))
    machine = ConnectionMachine(settings, fakes.ports(media=False, network=True), listeners=[seen])
    return machine, fakes, seen


def _backing_off(delay: float = 30.0) -> tuple[ConnectionMachine, Fakes, Recorder]:
    machine, fakes, seen = _rig(delay)
    Driver(machine, fakes).to_connected()
    fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
    assert machine.detail == "backing_off"
    return machine, fakes, seen


def test_the_watch_runs_with_the_connection() -> None:
    """Started on connect with the server's host; stopped when the connection ends."""
    machine, fakes, _ = _rig()
    Driver(machine, fakes).to_connected()
    assert fakes.network.host == "ptt.test"
    machine.send("disconnect")
    assert fakes.log.names().count("network.stop") == 1
    assert fakes.network.events is None


def test_network_back_skips_the_remaining_backoff() -> None:
    """30 s to wait; the network comes back: the attempt starts now, and says why."""
    machine, fakes, seen = _backing_off()
    opens = len(fakes.signaling.opens)
    fakes.network.report(UP)
    assert machine.detail == "redialing"
    assert len(fakes.signaling.opens) == opens + 1
    last = seen.of(Reconnecting)[-1]
    assert (last.cause, last.delay) == ("network came back", 0.0)
    assert machine.metrics["network_attempts"] == 1


def test_a_flapping_interface_starts_at_most_one_attempt_per_interval() -> None:
    """Twenty reports in two seconds: at most one attempt per network_hint_interval."""
    machine, fakes, _ = _backing_off()
    opens = len(fakes.signaling.opens)
    for _ in range(20):
        if machine.detail == "redialing":
            fakes.signaling.fail_open(LinkError(cause=Cause.TRANSIENT))  # still no path
        fakes.network.report(UP)
        fakes.clock.advance(0.1)
    attempts = len(fakes.signaling.opens) - opens
    assert 1 <= attempts <= 3
    assert machine.metrics["network_attempts"] == attempts


def test_the_servers_retry_after_is_never_bypassed() -> None:
    """A 1 s schedule, but the server said 10 s: the network coming back changes nothing."""
    machine, fakes, _ = _backing_off(delay=1.0)
    fakes.clock.run_next()  # the retry: the server answers 503, come back in 10 s
    fakes.signaling.fail_open(LinkError(status=503, retry_after=10.0))
    assert machine.detail == "backing_off"
    fakes.clock.advance(2.0)
    fakes.network.report(UP)
    assert machine.detail == "backing_off"
    fakes.clock.advance(8.5)  # the Retry-After timer itself fires
    assert machine.detail == "redialing"


def test_a_lost_network_does_not_start_an_attempt() -> None:
    machine, fakes, _ = _backing_off()
    fakes.network.report(DOWN)
    assert machine.detail == "backing_off"


def test_a_path_change_while_connected_probes_the_link() -> None:
    """A roam while connected: probe now (short timeout) instead of the next keepalive."""
    machine, fakes, _ = _rig()
    Driver(machine, fakes).to_connected()
    fakes.log.clear()
    fakes.network.report(ROUTE)
    assert fakes.log == [("signaling", "probe", (1.0,))]
    fakes.network.report(ROUTE)  # within the interval: no second probe
    assert fakes.log.names() == ["signaling.probe"]
    assert machine.state == "connected"


def test_no_report_after_the_connection_ended() -> None:
    """A report that races the end of the connection changes nothing."""
    machine, fakes, _ = _backing_off()
    binding = fakes.network.events
    machine.send("disconnect")
    assert binding is not None
    binding.changed(UP)
    assert machine.state == "disconnected"


def test_a_report_that_comes_too_soon_is_replayed_after_the_interval() -> None:
    """The network returns 0.3 s after a failed hint attempt: the attempt waits until the
    interval has passed, then starts; it does not sit out the 30 s backoff."""
    machine, fakes, _ = _backing_off()
    fakes.network.report(UP)
    fakes.signaling.fail_open(LinkError(cause=Cause.TRANSIENT))  # the path was not back yet
    assert machine.detail == "backing_off"
    fakes.clock.advance(0.3)
    fakes.network.report(UP)
    assert machine.detail == "backing_off"  # too soon
    fakes.clock.advance(0.8)  # 1.1 s after the first attempt
    assert machine.detail == "redialing"
    assert machine.metrics["network_attempts"] == 2
