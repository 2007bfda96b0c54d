"""Every state x every event x every guard scenario: exact target and adapter calls."""

from __future__ import annotations

import pytest

from fsm import (
    Cause,
    ChannelChanged,
    Features,
    FixedSchedule,
    FloorControl,
    FloorLost,
    LinkError,
    ReconnectFailed,
    TransportError,
)
from fsm.table import events, states, transition_table
from fsm.testing import joined_ok

from .drive import DRIVERS, finish_steps, rig_in
from .expected_table import EXPECTED
from .scenarios import SCENARIOS

CASES = [
    (state, event, scenario)
    for state in DRIVERS
    for event, scenarios in SCENARIOS.items()
    for scenario in scenarios
]


def test_scenarios_cover_the_machine_vocabulary() -> None:
    """The table's events are exactly the machine's events, and every atomic state is driven."""
    assert set(SCENARIOS) == set(events())
    atomic = {s for s in states() if s not in ("connecting", "connected", "reconnecting")}
    assert set(DRIVERS) == atomic


def test_expected_rows_are_all_reachable_cases() -> None:
    """Every row of the expected table names a real (state, event, scenario)."""
    assert set(EXPECTED) <= set(CASES)


@pytest.mark.parametrize(("state", "event", "scenario"), CASES)
def test_state_event(state: str, event: str, scenario: str) -> None:
    """Handled events land on the exact target with the exact adapter calls; others are rejected."""
    rig = rig_in(state)
    rig.send(event, **SCENARIOS[event][scenario])
    if (state, event, scenario) in EXPECTED:
        target, calls = EXPECTED[(state, event, scenario)]
        assert rig.counter.count >= 1
        assert (rig.where, rig.calls()) == (target, calls)
    else:
        assert rig.counter.count == 0, f"{event} should be rejected in {state}"
        assert rig.where == state
        assert rig.calls() == []


#: Rows whose guard never holds with the default ports (so the table, on default fakes,
#: expects them rejected), each checked by the test named here instead.
NEEDS_OTHER_FEATURES = {
    ("connected", "talk_time_up"): "test_client_side_floor_ends_the_transmission_at_the_limit",
}


def test_every_machine_row_is_exercised_by_the_table() -> None:
    """Each (source, event) pair of the exported table appears among the expected rows."""
    expected_pairs = {(s.split(".")[0], e) for s, e, _ in EXPECTED} | {
        (s, e) for s, e, _ in EXPECTED
    }
    rows = {(row.source, row.event) for row in transition_table()}
    assert set(NEEDS_OTHER_FEATURES) <= rows  # no stale exemption
    for pair, test in NEEDS_OTHER_FEATURES.items():
        assert pair not in expected_pairs, pair
        assert callable(globals()[test]), test
    for row in transition_table():
        if row.event == "error.execution" or (row.source, row.event) in NEEDS_OTHER_FEATURES:
            continue
        assert (row.source, row.event) in expected_pairs, row


# --- guard scenarios that need a different configuration ---------------------------------
def test_401_without_token_provider_is_fatal_at_once() -> None:
    """No token provider: a 401 goes straight to error with no second attempt."""
    rig = rig_in("connecting.dialing", tokens=False)
    rig.fakes.signaling.fail_open(LinkError(status=401, cause=Cause.AUTH_INVALID))
    assert rig.where == "error"
    assert len(rig.fakes.signaling.opens) == 1  # the first attempt only: never retried
    assert "log in again" in rig.recorder.events[-1].guidance  # type: ignore[union-attr]


def test_second_401_after_refresh_is_fatal() -> None:
    """The token is refreshed once; a second 401 is fatal."""
    rig = rig_in("connecting.authenticating")
    rig.fakes.tokens.complete("fresh-token")
    assert rig.fakes.signaling.opens[-1] == ("ws://ptt.test/ptt", "fresh-token")
    rig.fakes.signaling.fail_open(LinkError(status=401, cause=Cause.AUTH_INVALID))
    assert rig.where == "error"
    assert rig.calls().count("tokens.refresh") == 0


def test_refresh_allowed_again_after_a_full_session() -> None:
    """After a session was fully established, a later auth expiry may refresh again."""
    rig = rig_in("connecting.authenticating")
    rig.fakes.tokens.complete("fresh-token")
    rig.fakes.signaling.complete_open()
    finish_steps(rig)
    assert rig.where == "connected.ready"
    rig.fakes.signaling.lose(LinkError(cause=Cause.AUTH_EXPIRED))
    assert rig.where == "reconnecting.reauthenticating"


@pytest.mark.parametrize("state", ["reconnecting.redialing", "reconnecting.restoring"])
def test_max_attempts_reached_gives_up(state: str) -> None:
    """With max_attempts=1 the first failed reconnect attempt ends in error, 'gave up'."""
    rig = rig_in(state, backoff=FixedSchedule((1.0,), max_attempts=1))
    if state == "reconnecting.redialing":
        rig.fakes.signaling.fail_open(LinkError(status=500))
    else:
        rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
    assert rig.where == "error"
    assert "gave up after 1 attempts" in (rig.machine.reason or "")
    assert rig.recorder.of(ReconnectFailed) == [ReconnectFailed(1, rig.machine.reason or "")]


def test_media_connect_retried_once_then_error() -> None:
    """Connecting the media fails: retried once, the second failure is an error with a reason."""
    rig = rig_in("connecting.establishing")
    f = rig.fakes
    f.signaling.answer_join(joined_ok(resume_id="s"))
    assert rig.calls() == ["media.close", "media.connect"]
    f.media.complete("connect", error=TransportError("ice failed"))
    assert rig.where == "connecting.establishing"
    assert rig.calls() == ["media.connect"]
    f.media.complete("connect", error=TransportError("ice failed"))
    assert rig.where == "error"
    assert "after a retry" in (rig.machine.reason or "")


def test_signaling_only_plan_skips_media() -> None:
    """Without media and audio the session is join, floor, flush: no media calls."""
    rig = rig_in("connecting.establishing", media=False)
    rig.fakes.signaling.answer_join(joined_ok(resume_id="s"))
    assert rig.where == "connected.ready"
    assert rig.calls() == []


def test_client_side_floor_ends_the_transmission_at_the_limit() -> None:
    """A backend without floor control cannot enforce the talk-time limit: the machine
    releases the floor itself once max_talk_time has passed."""
    features = Features(floor=FloorControl.CLIENT, max_talk_time=2.0)
    rig = rig_in("connected.ready", features=features)
    rig.send("talk_pressed")
    rig.fakes.signaling.answer_floor(granted=True)
    assert rig.fakes.media.transmitting
    rig.calls()
    rig.fakes.clock.advance(1.9)
    assert rig.fakes.media.transmitting
    rig.fakes.clock.advance(0.1)
    assert rig.where == "connected.ready"
    assert rig.calls()[:2] == ["signaling.release_floor", "media.set_transmitting"]
    assert not rig.fakes.media.transmitting
    assert not rig.machine.floor.granted
    lost = [e for e in rig.recorder.of(ChannelChanged) if e.kind == "floor_lost"]
    assert lost[-1].data["reason"] == FloorLost.MAX_TALK_TIME.value


def test_server_side_floor_leaves_the_talk_time_limit_to_the_server() -> None:
    rig = rig_in("connected.ready", features=Features(max_talk_time=2.0))
    rig.send("talk_pressed")
    rig.fakes.signaling.answer_floor(granted=True)
    assert "talk_time" not in rig.machine.pending_timers()
    rig.fakes.clock.advance(30.0)
    assert rig.fakes.media.transmitting
