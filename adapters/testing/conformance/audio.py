"""A stand-in for the audio devices: a silent microphone and a playback that only counts.

Silence is still RTP at the real packet rate, so a server that watches the talker's
uplink sees a live one."""

from __future__ import annotations

from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack


class SilentAudio:
    """An :class:`~adapters.backends.base.AudioIO` with no device behind it."""

    def __init__(self) -> None:
        self.playing: list[MediaStreamTrack] = []
        self._microphone: MediaStreamTrack | None = None

    def microphone_track(self) -> MediaStreamTrack:
        if self._microphone is None:
            self._microphone = AudioStreamTrack()  # aiortc's own: 20 ms of silence a frame
        return self._microphone

    def play(self, track: MediaStreamTrack) -> None:
        self.playing.append(track)

    def stop_playing(self, track: MediaStreamTrack) -> None:
        if track in self.playing:
            self.playing.remove(track)

    def close(self) -> None:
        """Stop the microphone (the audio adapter owns it, not the media adapter)."""
        if self._microphone is not None:
            self._microphone.stop()
