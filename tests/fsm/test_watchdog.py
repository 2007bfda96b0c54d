"""Every non-terminal state has a deadline: nothing hangs, nobody is stuck reconnecting."""

from __future__ import annotations

import structlog

from fsm import Cause, FloorLost, LinkError, RequestFailed
from fsm.floor import FloorStatus

from .drive import RESUMED, Rig, finish_steps, rig_in


def test_connect_attempt_that_hangs_is_abandoned() -> None:
    """No answer to the open within connect_timeout: the attempt is closed and retried."""
    rig = rig_in("connecting.dialing")
    rig.fakes.clock.advance(rig.machine.settings.connect_timeout)
    assert rig.where == "reconnecting.backing_off"
    assert "signaling.close" in rig.calls()
    assert "took longer" in (rig.machine.reason or "")


def test_restore_step_that_hangs_is_a_retryable_failure() -> None:
    """A join never answered: after step_timeout the link is closed and a retry scheduled."""
    rig = rig_in("reconnecting.restoring")
    attempt = rig.machine.attempt
    rig.fakes.clock.advance(rig.machine.settings.step_timeout)
    assert rig.where == "reconnecting.backing_off"
    assert rig.machine.attempt == attempt + 1
    assert rig.machine.pending_timers() == ("retry",)


def test_token_refresh_that_hangs_is_fatal() -> None:
    """A token provider that never answers: error (the token was already rejected)."""
    rig = rig_in("reconnecting.reauthenticating")
    rig.fakes.clock.advance(rig.machine.settings.auth_timeout)
    assert rig.where == "error"


def test_reconnecting_always_has_a_next_attempt() -> None:
    """Through repeated failures, each backoff ends in a new attempt; never stuck."""
    rig = rig_in("reconnecting.backing_off")
    for _ in range(10):
        assert rig.machine.pending_timers() == ("retry",)
        rig.fakes.clock.run_next()
        assert rig.where == "reconnecting.redialing"
        rig.fakes.signaling.fail_open(LinkError(status=502))
        assert rig.where == "reconnecting.backing_off"


def test_late_report_from_a_cancelled_attempt_is_dropped_and_logged() -> None:
    """A link that reports 'opened' after we gave up on it changes nothing."""
    rig = rig_in("connecting.dialing")
    stale = rig.fakes.signaling.events
    rig.send("disconnect")
    with structlog.testing.capture_logs() as logs:
        assert stale is not None
        stale.opened()
    assert rig.where == "disconnected"
    assert any(entry["event"] == "ptt.late_event" for entry in logs)


def _messages_in_flight(rig: Rig) -> list[int]:
    """The ``n`` of every message sent and not yet answered, in the order sent."""
    return [args[1]["n"] for _, args, _ in rig.fakes.signaling.pending("send_message")]


def test_a_full_outbox_is_released_in_paced_batches() -> None:
    """100 queued messages go out 20 at a time, every flush_interval, in order."""
    rig = rig_in("reconnecting.backing_off")
    for n in range(100):
        rig.send("send_message", data={"n": n})
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()
    finish_steps(rig, join=RESUMED)
    assert rig.where == "connected.ready"
    assert _messages_in_flight(rig) == list(range(20))
    rig.fakes.clock.advance(rig.machine.settings.flush_interval * 4)
    assert _messages_in_flight(rig) == list(range(100))
    assert rig.machine.pending_timers() == ("stable",)


def test_rate_limited_messages_are_sent_again_before_newer_ones() -> None:
    """The server answers rate_limited: the message is queued, newer ones queue behind it,
    and both go out with the next batch."""
    rig = rig_in("connected.ready")
    rig.send("send_message", data={"n": 1})
    rig.send("send_message", data={"n": 2})
    first_id = rig.fakes.signaling.pending("send_message")[0][1][0]
    rig.fakes.signaling.answer(
        "send_message", error=RequestFailed("send_message", Cause.RATE_LIMITED)
    )
    rig.send("send_message", data={"n": 3})  # queued behind 1
    assert _messages_in_flight(rig) == [2]
    assert "flush" in rig.machine.pending_timers()
    rig.fakes.clock.advance(rig.machine.settings.flush_interval)
    assert _messages_in_flight(rig) == [2, 1, 3]
    # sent again under its own id, so the server can drop a duplicate
    assert rig.fakes.signaling.pending("send_message")[1][1][0] == first_id


def test_losing_the_floor_to_a_stalled_uplink_rebuilds_our_media() -> None:
    """The floor is lost because the server heard nothing from us while we talk: our
    uplink is dead, so reconnect and rebuild the media path (even if the session
    resumes), then take the floor again."""
    rig = rig_in("connected.ready")
    rig.send("talk_pressed")
    rig.fakes.signaling.answer_floor(granted=True)
    rig.calls()
    rig.fakes.signaling.events.floor_lost("tx-1", FloorLost.STALLED_UPLINK)
    assert rig.where == "reconnecting.backing_off"
    assert "uplink stalled" in (rig.machine.reason or "")
    assert not rig.fakes.media.transmitting
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()
    finish_steps(rig, join=RESUMED)
    calls = rig.calls()
    assert rig.machine.resumed  # the server did give the session back...
    assert "media.connect" in calls  # ...and the media was rebuilt all the same
    assert "media.attach_microphone" in calls
    assert rig.where == "connected.ready"
    assert rig.machine.floor.granted  # the button is still held: asked again
    assert "signaling.request_floor" in calls
    assert rig.fakes.media.transmitting


def test_a_resumed_session_without_a_held_button_does_not_ask_for_the_floor() -> None:
    """The button was released during the outage: the restore never asks for the floor."""
    rig = rig_in("connected.ready")
    rig.send("talk_pressed")
    rig.fakes.signaling.answer_floor(granted=True)
    rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
    rig.send("talk_released")
    rig.calls()
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()
    finish_steps(rig, join=RESUMED)
    assert rig.where == "connected.ready"
    assert "signaling.request_floor" not in rig.calls()
    assert not rig.machine.floor.held
    assert not rig.fakes.media.transmitting


def test_a_press_during_the_outage_asks_for_the_floor_once() -> None:
    """Pressed while reconnecting (not held before the outage): the queued press is
    replayed from the outbox after the restore; the restore does not ask a second time."""
    rig = rig_in("reconnecting.backing_off")
    rig.send("talk_pressed")
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()
    finish_steps(rig, join=RESUMED)
    assert rig.where == "connected.ready"
    assert rig.calls().count("signaling.request_floor") == 1
    rig.fakes.signaling.answer_floor(granted=True)
    assert rig.machine.floor.granted
    assert rig.fakes.media.transmitting


def test_max_talk_time_just_drops_the_floor() -> None:
    rig = rig_in("connected.ready")
    rig.send("talk_pressed")
    rig.fakes.signaling.answer_floor(granted=True)
    rig.fakes.signaling.events.floor_lost(None, FloorLost.MAX_TALK_TIME)
    assert rig.where == "connected.ready"
    assert rig.machine.floor.status is FloorStatus.NONE
    assert not rig.fakes.media.transmitting
