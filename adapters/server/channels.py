"""Channels: their members (sessions, connected or in grace), floor and producers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

from .floor import Floor
from .sessions import Session


@dataclass(eq=False)
class Channel:
    name: str
    members: dict[str, Session] = field(default_factory=dict)  # peer id -> session, join order
    floor: Floor = field(default_factory=Floor)
    producers: dict[str, str] = field(default_factory=dict)  # producer id -> peer id
    talk_timer: asyncio.TimerHandle | None = None

    @property
    def speaker(self) -> str | None:
        return self.floor.holder.peer_id if self.floor.holder is not None else None

    def others(self, peer_id: str | None = None) -> Iterator[Session]:
        """Connected members other than ``peer_id`` (members in grace miss notifications)."""
        for session in list(self.members.values()):
            if session.peer_id != peer_id and session.link is not None:
                yield session

    def stop_talk_timer(self) -> None:
        if self.talk_timer is not None:
            self.talk_timer.cancel()
            self.talk_timer = None


class Channels:
    """Channels exist while they have members; the first join creates one."""

    def __init__(self) -> None:
        self._by_name: dict[str, Channel] = {}

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self._by_name.values()))

    def get(self, name: str) -> Channel | None:
        return self._by_name.get(name)

    def get_or_create(self, name: str) -> Channel:
        channel = self._by_name.get(name)
        if channel is None:
            channel = self._by_name[name] = Channel(name)
        return channel

    def discard_if_empty(self, channel: Channel) -> None:
        if not channel.members and self._by_name.get(channel.name) is channel:
            channel.stop_talk_timer()
            del self._by_name[channel.name]

    def remove(self, name: str) -> Channel | None:
        channel = self._by_name.pop(name, None)
        if channel is not None:
            channel.stop_talk_timer()
        return channel
