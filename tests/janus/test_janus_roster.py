"""The client-side floor rule, without Janus: pure facts in, a holder out."""

from __future__ import annotations

from adapters.backends.janus.roster import Roster


def room(*entries: dict[str, object], stale: float = 20.0, max_talk: float | None = None) -> Roster:
    roster = Roster(stale_after=stale, max_talk_time=max_talk)
    roster.reset(5, entries, now=0.0)
    return roster


def test_lowest_unmuted_id_holds_the_floor() -> None:
    roster = room({"id": 9, "muted": False}, {"id": 7, "muted": False})
    assert roster.holder(1.0) == 7
    assert roster.blocker(1.0) == 7
    roster.set_my_mute(False, 1.0)
    assert roster.holder(1.0) == 5  # we have the lowest id: we keep it
    assert roster.blocker(1.0) == 7  # and a collision is theirs to settle


def test_a_silent_unmuted_member_stops_blocking_after_the_window() -> None:
    roster = room({"id": 9, "muted": False})
    assert roster.blocker(19.0) == 9
    assert roster.blocker(20.5) is None
    assert roster.next_expiry(1.0) == 20.0


def test_talking_keeps_a_member_live_until_max_talk_time_plus_window() -> None:
    roster = room({"id": 9, "muted": False, "talking": True}, max_talk=30.0)
    assert roster.blocker(45.0) == 9
    assert roster.blocker(50.5) is None  # a dropped talker's "talking" never ends by itself


def test_leaving_removes_and_we_are_never_announced() -> None:
    roster = room({"id": 9})
    assert [p.pid for p in roster.update([{"id": 5}, {"id": 11}], 1.0)] == [11]
    assert roster.remove(9)
    assert not roster.remove(5)  # ourselves: never a member_left
