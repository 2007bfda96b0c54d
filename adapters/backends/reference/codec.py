"""Decode and validate what the reference server sends into :mod:`fsm.domain` values.

Answers: a malformed answer to our own request is the server breaking the protocol, so
the decoders raise :class:`~fsm.errors.ProtocolViolation` (the request fails with it).
Notifications: :func:`decode_notification` returns one small typed fact, ``None`` for a
method this client does not know (a newer server), and raises ``ProtocolViolation`` for a
known method with bad data (the caller counts and drops it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fsm.domain import AudioSource, ChannelMessage, FloorAnswer, FloorLost, Joined, Member
from fsm.errors import ProtocolViolation

from . import protocol

#: ``floorRevoked`` reasons; any other reason means the server ended the transmission.
REVOKE_REASONS: Mapping[str, FloorLost] = MappingProxyType(
    {
        "max_talk_time": FloorLost.MAX_TALK_TIME,
        "stalled": FloorLost.STALLED_UPLINK,
        "kicked": FloorLost.PREEMPTED,
    }
)

#: The key of a message's id inside its data (the server drops a resent duplicate by it).
MSG_ID = "msg_id"


# --- answers -------------------------------------------------------------------------------
def decode_joined(data: object) -> Joined:
    """The join answer (``protocol`` JoinResult) as a :class:`Joined`."""
    body = _object(data, "join answer")
    names = body.get("names", {})
    if not isinstance(names, Mapping):
        raise ProtocolViolation("join answer: 'names' must be an object")
    members = _list(body.get("members", []), "join answer: 'members'")
    if not all(isinstance(p, str) for p in members):
        raise ProtocolViolation("join answer: 'members' must be peer ids")
    producers = _list(body.get("producers", []), "join answer: 'producers'")
    resumed = body.get("resumed", False)
    return Joined(
        peer_id=_text(body, "peer_id", "join answer"),
        resume_id=_optional_text(body, "session_id", "join answer"),
        resumed=resumed,
        members=tuple(Member(p, _name(names.get(p))) for p in members),
        speaker=_optional_text(body, "speaker", "join answer"),
        sources=tuple(_source(p, "join answer producer") for p in producers),
    )


def decode_floor_answer(data: object, tx_id: str) -> FloorAnswer:
    """The ``pttStart`` answer; it must be about the transmission we asked for."""
    body = _object(data, "pttStart answer")
    answered = _text(body, "tx_id", "pttStart answer")
    if answered != tx_id:
        raise ProtocolViolation(f"pttStart answer is for {answered!r:.40}, not {tx_id!r:.40}")
    granted = body.get("granted")
    if not isinstance(granted, bool):
        raise ProtocolViolation(
            f"pttStart answer: 'granted' must be a boolean, got {granted!r:.40}"
        )
    return FloorAnswer(tx_id, granted, _optional_text(body, "speaker", "pttStart answer"))


def encode_message(msg_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``message`` request: the user's object with our ``msg_id`` (ours wins)."""
    return {**data, MSG_ID: msg_id}


# --- notifications -------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeakerChanged:
    peer_id: str | None


@dataclass(frozen=True)
class MemberJoined:
    member: Member


@dataclass(frozen=True)
class MemberLeft:
    peer_id: str


@dataclass(frozen=True)
class SourceAdded:
    source: AudioSource


@dataclass(frozen=True)
class SourceRemoved:
    source_id: str


@dataclass(frozen=True)
class FloorRevoked:
    tx_id: str
    why: FloorLost


@dataclass(frozen=True)
class MessageReceived:
    message: ChannelMessage
    seq: int | None = None  # its delivery number in our session (None: an older server)


Notification = (
    SpeakerChanged
    | MemberJoined
    | MemberLeft
    | SourceAdded
    | SourceRemoved
    | FloorRevoked
    | MessageReceived
)


def decode_notification(method: str, data: Mapping[str, Any]) -> Notification | None:
    """One notification as a fact; ``None`` if the method is unknown to this client."""
    what = f"{method} notification"
    if method == protocol.SPEAKER_CHANGED:
        return SpeakerChanged(_optional_text(data, "peer_id", what))
    if method == protocol.PEER_JOINED:
        user = data.get("user")
        if user is not None and not isinstance(user, str):
            raise ProtocolViolation(f"{what}: 'user' must be a string")
        return MemberJoined(Member(_text(data, "peer_id", what), _name(user)))
    if method == protocol.PEER_LEFT:
        return MemberLeft(_text(data, "peer_id", what))
    if method == protocol.NEW_PRODUCER:
        return SourceAdded(_source(data, what))
    if method == protocol.PRODUCER_CLOSED:
        return SourceRemoved(_text(data, "producer_id", what))
    if method == protocol.FLOOR_REVOKED:
        # Without the transmission it ends, a revoke could end any later one: refuse it.
        reason = data.get("reason")
        why = REVOKE_REASONS.get(reason) if isinstance(reason, str) else None
        return FloorRevoked(_text(data, "tx_id", what), why or FloorLost.RELEASED)
    if method == protocol.MESSAGE:
        return MessageReceived(_message(data, what), _seq(data, what))
    return None


# --- helpers -------------------------------------------------------------------------------
def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProtocolViolation(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProtocolViolation(f"{what} must be a list")
    return value


def _text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolViolation(f"{what}: {key!r} must be a non-empty string, got {value!r:.60}")
    return value


def _optional_text(data: Mapping[str, Any], key: str, what: str) -> str | None:
    return None if data.get(key) is None else _text(data, key, what)


def _name(value: object) -> str | None:
    """A user name, when the server gave a usable one (names are informational)."""
    return value if isinstance(value, str) and value else None


def _source(data: object, what: str) -> AudioSource:
    body = _object(data, what)
    return AudioSource(_text(body, "producer_id", what), _optional_text(body, "peer_id", what))


def _seq(data: Mapping[str, Any], what: str) -> int | None:
    """A message's delivery number; a bad one could hide later messages: refuse it."""
    value = data.get(protocol.SEQ)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProtocolViolation(f"{what}: {protocol.SEQ!r} must be an integer >= 1")
    return value


def _message(data: Mapping[str, Any], what: str) -> ChannelMessage:
    body = data.get("data", {})
    if not isinstance(body, Mapping):
        raise ProtocolViolation(f"{what}: 'data' must be an object")
    msg_id = body.get(MSG_ID)
    content = MappingProxyType({k: v for k, v in body.items() if k != MSG_ID})
    return ChannelMessage(
        data=content,
        sender=_optional_text(data, "from", what),
        msg_id=msg_id if isinstance(msg_id, str) and msg_id else None,
    )
