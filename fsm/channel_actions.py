"""Actions that keep the channel picture: members, the speaker, remote audio sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .core import MachineCore
from .domain import AudioSource, ChannelMessage, Member
from .events import ChannelChanged
from .ports import Reply, Result


class ChannelActions(MachineCore):
    def add_member(self, member: Member | None = None) -> None:
        if isinstance(member, Member):
            self.channel.add_member(member)
            data = {"peer_id": member.peer_id, "name": member.name}
            self._emit(ChannelChanged("member_joined", data, self.channel.speaker))

    def remove_member(self, peer_id: str | None = None) -> None:
        if isinstance(peer_id, str):
            self.channel.remove_member(peer_id)
            self._emit(ChannelChanged("member_left", {"peer_id": peer_id}, self.channel.speaker))

    def change_speaker(self, peer_id: str | None = None) -> None:
        self.channel.speaker = peer_id if isinstance(peer_id, str) else None
        media = self.ports.media
        if media is not None and self.state == "connected":
            media.expect_audio(self.channel.remote_speaking())
        data = {"peer_id": self.channel.speaker}
        self._emit(ChannelChanged("speaker_changed", data, self.channel.speaker))

    def change_sources(self, sources: Sequence[AudioSource] = ()) -> None:
        valid = tuple(s for s in sources if isinstance(s, AudioSource))
        if self.channel.set_sources(valid):
            self._follow_sources()

    def _follow_sources(self) -> None:
        media = self.ports.media
        if media is not None and self.state == "connected":
            self._followed = frozenset(self.channel.sources)
            media.follow(self.channel.sources, self._follow_reply())

    def _follow_reply(self) -> Reply:
        generation = self._bump("follow")

        def reply(result: Result[Any]) -> None:
            if not result.ok and self._generations["follow"] == generation:
                self.plan.degraded_reason = f"follow_sources failed: {result.error}"

        return reply

    def note_message(self, message: ChannelMessage | None = None) -> None:
        if isinstance(message, ChannelMessage):
            data = {"from": message.sender, "data": dict(message.data)}
            self._emit(ChannelChanged("message", data, self.channel.speaker))
