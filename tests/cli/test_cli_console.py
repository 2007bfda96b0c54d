"""The interactive status line: colour by state, countdown, who talks, the floor."""

from __future__ import annotations

import io

from adapters.app.console import GREEN, RED, YELLOW, StatusLine
from fsm import Cause, ErrorRaised, LinkError, Member, Reconnecting
from tests.fsm.drive import rig_in


def test_connected_is_green_and_says_who_talks() -> None:
    rig = rig_in("connected.ready")
    rig.machine.channel.speaker = "bob"
    line = StatusLine(io.StringIO()).render(rig.machine, now=0.0)
    assert line.startswith(GREEN)
    assert "[ops] connected" in line
    assert "bob is talking" in line


def test_reconnecting_is_yellow_with_attempt_and_countdown() -> None:
    rig = rig_in("connected.ready")
    status = StatusLine(io.StringIO())
    rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
    now = rig.fakes.clock.now()
    status.note(Reconnecting(1, 4.2, "link lost"), now)
    assert YELLOW in status.render(rig.machine, now)
    assert "attempt 1, retry in 4.2 s" in status.render(rig.machine, now)
    assert "retry in 3.2 s" in status.render(rig.machine, now + 1.0)


def test_error_is_red_with_reason_and_what_to_do() -> None:
    rig = rig_in("error")
    status = StatusLine(io.StringIO())
    status.note(ErrorRaised("handshake rejected with HTTP 403", "ask for access"), 0.0)
    line = status.render(rig.machine, 0.0)
    assert line.startswith(RED)
    assert "HTTP 403" in line
    assert "ask for access" in line


def test_transmitting_is_shown() -> None:
    rig = rig_in("connected.ready")
    rig.send("talk_pressed")
    rig.fakes.signaling.answer_floor(granted=True)
    assert "YOU ARE TALKING" in StatusLine(io.StringIO(), colour=False).render(rig.machine, 0.0)


def test_speaker_is_shown_by_user_name_when_known() -> None:
    rig = rig_in("connected.ready")
    rig.fakes.signaling.events.member_joined(Member("p-9", "carol"))
    rig.fakes.signaling.events.speaker_changed("p-9")
    assert "carol is talking" in StatusLine(io.StringIO(), colour=False).render(rig.machine, 0.0)
