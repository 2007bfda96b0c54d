"""The facts a backend reports, in the language of push-to-talk rather than of any wire.

A backend decodes its own protocol into these small validated values at its boundary; the
machine never sees a raw frame, a method name or a payload key. Every type is frozen and
checks its own invariants, so a hostile or buggy server cannot smuggle a malformed fact in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from .errors import ProtocolViolation


def _text(value: object, what: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise ProtocolViolation(f"{what} must be a non-empty string, got {value!r:.60}")


class FloorControl(StrEnum):
    """Who decides who may talk."""

    SERVER = "server"  # the server grants, denies and revokes the floor
    CLIENT = "client"  # the server only mixes: each client applies the same floor policy


class FloorLost(StrEnum):
    """Why a floor we held (or asked for) is gone."""

    RELEASED = "released"  # we released it, or the server ended our transmission
    MAX_TALK_TIME = "max_talk_time"  # the talk-time limit was reached
    STALLED_UPLINK = "stalled_uplink"  # the server heard nothing from us: our uplink is dead
    PREEMPTED = "preempted"  # a moderator or a higher priority took it
    COLLISION = "collision"  # two clients took a client-side floor at once; we yielded


@dataclass(frozen=True)
class Features:
    """What a backend supports; the machine adapts its plan and guards to it.

    ``max_talk_time`` is enforced by the machine itself when the floor is client-side (the
    server cannot); with a server-side floor the server enforces its own limit."""

    floor: FloorControl = FloorControl.SERVER
    resume: bool = True  # the server keeps a session across a link loss (signal-only resume)
    messages: bool = True  # channel messages (``send_message``)
    max_talk_time: float | None = None
    #: The largest encoded message the server accepts (``None``: no limit of its own).
    max_message_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.max_talk_time is not None and not self.max_talk_time > 0:
            raise ValueError("max_talk_time must be positive seconds or None")
        if self.max_message_bytes is not None and self.max_message_bytes < 1:
            raise ValueError("max_message_bytes must be positive or None")


@dataclass(frozen=True)
class Member:
    """A participant of the channel; ``name`` is the user name when the server tells it."""

    peer_id: str
    name: str | None = None

    def __post_init__(self) -> None:
        _text(self.peer_id, "member peer id")
        _text(self.name, "member name", optional=True)


@dataclass(frozen=True)
class AudioSource:
    """One remote audio stream the client can receive: a producer on an SFU, the mix on a
    mixer. ``peer_id`` is whose voice it carries (``None`` for a mix of everyone)."""

    source_id: str
    peer_id: str | None = None

    def __post_init__(self) -> None:
        _text(self.source_id, "audio source id")
        _text(self.peer_id, "audio source peer id", optional=True)


@dataclass(frozen=True)
class Joined:
    """The answer to a join: who we are in the channel and what the channel looks like.

    ``resume_id`` is what to pass to the next join to resume this session (``None`` if the
    backend cannot resume); ``resumed`` is true when the server gave us back the session
    we asked for, with its media kept."""

    peer_id: str
    resume_id: str | None = None
    resumed: bool = False
    members: tuple[Member, ...] = ()
    speaker: str | None = None
    sources: tuple[AudioSource, ...] = ()

    def __post_init__(self) -> None:
        _text(self.peer_id, "own peer id")
        _text(self.resume_id, "resume id", optional=True)
        _text(self.speaker, "speaker", optional=True)
        if not isinstance(self.resumed, bool):
            raise ProtocolViolation("resumed must be a boolean")
        if not all(isinstance(m, Member) for m in self.members):
            raise ProtocolViolation("members must be Member values")
        if not all(isinstance(s, AudioSource) for s in self.sources):
            raise ProtocolViolation("sources must be AudioSource values")


@dataclass(frozen=True)
class FloorAnswer:
    """The answer to a floor request for transmission ``tx_id``."""

    tx_id: str
    granted: bool
    speaker: str | None = None  # who holds the floor now (on a deny: who we wait for)
    reason: str = ""

    def __post_init__(self) -> None:
        _text(self.tx_id, "transmission id")
        _text(self.speaker, "speaker", optional=True)
        if not isinstance(self.granted, bool):
            raise ProtocolViolation("granted must be a boolean")


@dataclass(frozen=True)
class ChannelMessage:
    """A message another member sent to the channel (``data`` is a JSON object)."""

    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    sender: str | None = None
    msg_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, Mapping):
            raise ProtocolViolation("a channel message must be a JSON object")
        _text(self.sender, "message sender", optional=True)
        _text(self.msg_id, "message id", optional=True)
