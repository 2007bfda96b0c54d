"""The channel picture drives what the media side expects."""

from __future__ import annotations

from .drive import rig_in


def test_audio_is_expected_only_from_a_remote_speaker_with_a_producer() -> None:
    """bob has a producer (from the join); a signaling-only carol holding the floor sends
    no audio, so our liveness check must not wait for any."""
    rig = rig_in("connected.ready")
    rig.fakes.signaling.notify("speakerChanged", {"peer_id": "bob"})
    assert rig.fakes.transports.expecting is True
    rig.fakes.signaling.notify("speakerChanged", {"peer_id": "carol"})
    assert rig.fakes.transports.expecting is False
    rig.fakes.signaling.notify("speakerChanged", {"peer_id": None})
    assert rig.fakes.transports.expecting is False
    rig.fakes.signaling.notify("speakerChanged", {"peer_id": "me"})  # ourselves
    assert rig.fakes.transports.expecting is False


def test_new_and_closed_producers_are_consumed_exactly() -> None:
    rig = rig_in("connected.ready")
    rig.fakes.signaling.notify("newProducer", {"producer_id": "p-carol", "peer_id": "carol"})
    assert rig.fakes.transports.consumers == ["p-carol", "prod-bob"]
    rig.fakes.signaling.notify("producerClosed", {"producer_id": "prod-bob"})
    assert rig.fakes.transports.consumers == ["p-carol"]
