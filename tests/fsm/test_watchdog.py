"""Every non-terminal state has a deadline: nothing hangs, nobody is stuck reconnecting."""

from __future__ import annotations

import structlog

from fsm import LinkError

from .drive import rig_in


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
