"""The channel picture drives what the media side expects and receives."""

from __future__ import annotations

from fsm import AudioSource, Joined, Member
from fsm.testing import Driver

from .drive import finish_steps, rig_in

BOB = AudioSource("src-bob", "bob")
CAROL = AudioSource("src-carol", "carol")


def test_audio_is_expected_only_from_a_remote_speaker_with_a_source() -> None:
    """bob has an audio source (from the join); a signaling-only carol holding the floor
    sends no audio, so our liveness check must not wait for any."""
    rig = rig_in("connected.ready")
    events, media = rig.fakes.signaling.events, rig.fakes.media
    events.speaker_changed("bob")
    assert media.expecting is True
    events.speaker_changed("carol")
    assert media.expecting is False
    events.speaker_changed(None)
    assert media.expecting is False
    events.speaker_changed("me")  # ourselves
    assert media.expecting is False


def test_a_mix_of_everyone_carries_any_remote_speaker() -> None:
    """A mixer's single source (no peer of its own) carries whoever talks."""
    rig = rig_in("connecting.establishing")
    members = (Member("me"), Member("bob", "bob"))
    finish_steps(rig, join=Joined("me", "s-1", members=members, sources=(AudioSource("mix"),)))
    rig.fakes.signaling.events.member_joined(Member("carol", "Carol"))
    rig.fakes.signaling.events.speaker_changed("carol")
    assert rig.fakes.media.expecting is True
    rig.fakes.signaling.events.speaker_changed("me")
    assert rig.fakes.media.expecting is False


def test_new_and_closed_sources_are_followed_exactly() -> None:
    rig = rig_in("connected.ready")
    events, media = rig.fakes.signaling.events, rig.fakes.media
    events.sources_changed((CAROL, BOB))
    assert [s.source_id for s in media.following] == ["src-carol", "src-bob"]
    media.complete("follow")
    events.sources_changed((CAROL,))
    assert [s.source_id for s in media.following] == ["src-carol"]
    media.complete("follow")
    rig.calls()
    events.sources_changed((CAROL,))  # the same set again: nothing to change
    assert rig.calls() == []


def test_sources_that_change_during_the_plan_are_followed_once_connected() -> None:
    """A producer appears while the media is being set up: connected means it is heard."""
    rig = rig_in("connecting.establishing")
    driver = Driver(rig.machine, rig.fakes)
    driver.finish_steps(until="follow_sources")
    assert rig.fakes.media.following == (BOB,)
    rig.send("sources_changed", sources=(BOB, CAROL))
    driver.finish_steps()
    assert rig.machine.state == "connected"
    assert set(rig.fakes.media.following) == {BOB, CAROL}
