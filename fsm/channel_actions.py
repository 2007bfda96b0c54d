"""Actions that keep the channel picture: members, the speaker, remote producers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core import MachineCore
from .events import ChannelChanged
from .ports import Reply, Result


class ChannelActions(MachineCore):
    def update_channel(self, kind: str = "", data: Any = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        peer = data.get("peer_id")
        if kind == "speakerChanged":
            self.channel.speaker = peer if isinstance(peer, str) else None
            if self.ports.transports is not None and self.state == "connected":
                self.ports.transports.expect_audio(self._remote_speaking())
        elif kind == "peerJoined" and isinstance(peer, str):
            self.channel.members.add(peer)
            if isinstance(data.get("user"), str):
                self.channel.names[peer] = data["user"]
        elif kind == "peerLeft" and isinstance(peer, str):
            self.channel.members.discard(peer)
        self._emit(ChannelChanged(kind, data, self.channel.speaker))

    def _remote_speaking(self) -> bool:
        """Audio is expected only from a remote speaker that has a producer: a
        signaling-only client may hold the floor too, and sends no audio at all."""
        speaker = self.channel.speaker
        if speaker is None or speaker == self.channel.peer_id:
            return False
        return speaker in self.channel.producers.values()

    def add_producer(self, data: Any = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        producer = data.get("producer_id")
        if isinstance(producer, str):
            self.channel.producers[producer] = str(data.get("peer_id", ""))
            self._reconcile_consumers()

    def remove_producer(self, data: Any = None) -> None:
        data = data if isinstance(data, Mapping) else {}
        producer = data.get("producer_id")
        if isinstance(producer, str) and self.channel.producers.pop(producer, None) is not None:
            self._reconcile_consumers()

    def _reconcile_consumers(self) -> None:
        transports = self.ports.transports
        if transports is not None and self.state == "connected":
            transports.consume(sorted(self.channel.producers), self._consume_reply())

    def _consume_reply(self) -> Reply:
        generation = self._bump("consume")

        def reply(result: Result) -> None:
            if not result.ok and self._generations["consume"] == generation:
                self.degraded_reason = f"consume failed: {result.error}"

        return reply

    def note_message(self, data: Any = None) -> None:
        self._emit(ChannelChanged("message", data if isinstance(data, Mapping) else {}))
