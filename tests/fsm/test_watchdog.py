"""Every non-terminal state has a deadline: nothing hangs, nobody is stuck reconnecting."""

from __future__ import annotations

import structlog

from fsm import LinkError, RequestFailed

from .drive import RESUMED, finish_steps, rig_in


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


def test_a_full_outbox_is_released_in_paced_batches() -> None:
    """100 queued messages go out 20 at a time, every flush_interval, in order."""
    rig = rig_in("reconnecting.backing_off")
    for n in range(100):
        rig.send("send_message", method="message", data={"n": n})
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()
    finish_steps(rig, join=RESUMED)
    assert rig.where == "connected.ready"
    sent = [d["n"] for m, d, _ in rig.fakes.signaling.requests if m == "message"]
    assert sent == list(range(20))
    rig.fakes.clock.advance(rig.machine.settings.flush_interval * 4)
    sent = [d["n"] for m, d, _ in rig.fakes.signaling.requests if m == "message"]
    assert sent == list(range(100))
    assert rig.machine.pending_timers() == ("stable",)


def test_rate_limited_messages_are_sent_again_before_newer_ones() -> None:
    """The server answers rate_limited: the message is queued, newer ones queue behind it,
    and both go out with the next batch."""
    rig = rig_in("connected.ready")
    rig.send("send_message", method="message", data={"n": 1})
    rig.send("send_message", method="message", data={"n": 2})
    rig.fakes.signaling.answer("message", error=RequestFailed("message", "rate_limited"))
    rig.send("send_message", method="message", data={"n": 3})  # queued behind 1
    assert "flush" in rig.machine.pending_timers()
    rig.fakes.clock.advance(rig.machine.settings.flush_interval)
    pending = [d["n"] for m, d, _ in rig.fakes.signaling.requests if m == "message"]
    assert pending == [2, 1, 3]


def test_server_revoking_a_stalled_speaker_rebuilds_our_media() -> None:
    """floorRevoked(stalled) while we talk: our uplink is dead, so reconnect and rebuild
    the transports (even if the session resumes), then take the floor again."""
    rig = rig_in("connected.ready")
    rig.send("talk_pressed")
    rig.fakes.signaling.answer("pttStart", {"granted": True})
    rig.calls()
    rig.fakes.signaling.notify("floorRevoked", {"reason": "stalled", "tx_id": "tx-1"})
    assert rig.where == "reconnecting.backing_off"
    assert "uplink stalled" in (rig.machine.reason or "")
    rig.fakes.clock.run_next()
    rig.fakes.signaling.complete_open()
    finish_steps(rig, join=RESUMED)
    calls = rig.calls()
    assert "transports.create" in calls  # rebuilt although the server resumed the session
    assert "transports.produce" in calls
    assert rig.where == "connected.ready"
    assert rig.machine.talk.floor == "granted"  # the button is still held: asked again
    assert "transports.set_transmitting" in calls


def test_max_talk_time_revoke_just_drops_the_floor() -> None:
    rig = rig_in("connected.ready")
    rig.send("talk_pressed")
    rig.fakes.signaling.answer("pttStart", {"granted": True})
    rig.fakes.signaling.notify("floorRevoked", {"reason": "max_talk_time"})
    assert rig.where == "connected.ready"
    assert rig.machine.talk.floor == "none"
    assert not rig.fakes.transports.transmitting
