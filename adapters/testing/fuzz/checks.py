"""What a parser may do with hostile input: return a valid value or raise its own typed
error. Each check returns the outcome's name; anything else it raises is a finding.

Client side: the reference codec's decoders answer :mod:`fsm.domain` values or raise
``ProtocolViolation``. Server side: :func:`adapters.server.wire.parse` answers a
``Request`` or raises ``RequestError``. :func:`check_fact` checks the domain invariants of
whatever was decoded (or reported through the signaling port), field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.backends.reference import codec, protocol
from adapters.server import wire
from fsm.domain import AudioSource, ChannelMessage, FloorAnswer, FloorLost, Joined, Member
from fsm.errors import ProtocolViolation


class InvariantBroken(AssertionError):
    """A decoded value breaks an :mod:`fsm.domain` invariant: the decoder let it through."""


#: The error codes the server may answer with; ``internal`` is a handler's crash.
ERROR_CODES = frozenset(
    v for k, v in vars(protocol).items() if k.startswith("E_") and isinstance(v, str)
)


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise InvariantBroken(what)


def _name(value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    _need(isinstance(value, str) and bool(value), f"expected a non-empty string: {value!r:.60}")


def check_fact(value: object) -> None:
    """Raise :class:`InvariantBroken` unless ``value`` is a well-formed domain fact."""
    match value:
        case Member():
            _name(value.peer_id)
            _name(value.name, optional=True)
        case AudioSource():
            _name(value.source_id)
            _name(value.peer_id, optional=True)
        case Joined():
            _name(value.peer_id)
            _name(value.resume_id, optional=True)
            _name(value.speaker, optional=True)
            _need(type(value.resumed) is bool, "resumed is not a bool")
            _need(isinstance(value.members, tuple) and isinstance(value.sources, tuple), "tuples")
            for part in (*value.members, *value.sources):
                check_fact(part)
        case FloorAnswer():
            _name(value.tx_id)
            _name(value.speaker, optional=True)
            _need(type(value.granted) is bool, "granted is not a bool")
        case ChannelMessage():
            _need(isinstance(value.data, Mapping), "message data is not a mapping")
            _need(codec.MSG_ID not in value.data, "msg_id leaked into the message data")
            _name(value.sender, optional=True)
            _name(value.msg_id, optional=True)
        case FloorLost():
            pass
        case _:
            raise InvariantBroken(f"not a domain value: {type(value).__name__}")


def check_notification_fact(fact: codec.Notification) -> None:
    match fact:
        case codec.SpeakerChanged(peer_id):
            _name(peer_id, optional=True)
        case codec.MemberJoined(member):
            check_fact(member)
        case codec.MemberLeft(peer_id) | codec.SourceRemoved(peer_id):
            _name(peer_id)
        case codec.SourceAdded(source):
            check_fact(source)
        case codec.FloorRevoked(tx_id, why):
            _name(tx_id)
            _need(isinstance(why, FloorLost), "floor lost without a FloorLost reason")
        case codec.MessageReceived(message):
            check_fact(message)
        case _:
            raise InvariantBroken(f"not a notification fact: {fact!r:.80}")


# --- one input, one outcome ----------------------------------------------------------------
def join_answer(data: object) -> str:
    try:
        joined = codec.decode_joined(data)
    except ProtocolViolation:
        return "violation"
    check_fact(joined)
    return "joined"


def floor_answer(data: object, tx_id: str = "tx-1") -> str:
    try:
        answer = codec.decode_floor_answer(data, tx_id)
    except ProtocolViolation:
        return "violation"
    check_fact(answer)
    _need(answer.tx_id == tx_id, "a floor answer for another transmission got through")
    return "granted" if answer.granted else "denied"


def notification(method: str, data: Mapping[str, Any]) -> str:
    try:
        fact = codec.decode_notification(method, data)
    except ProtocolViolation:
        return "violation"
    if fact is None:
        return "unknown"
    check_notification_fact(fact)
    return type(fact).__name__


def server_parse(frame: str | bytes) -> str:
    """The server's envelope parser: a ``Request`` of a known method, or a typed refusal."""
    try:
        request = wire.parse(frame)
    except wire.RequestError as exc:
        _need(exc.code in ERROR_CODES, f"unknown error code {exc.code!r}")
        usable = exc.request_id is None or (
            isinstance(exc.request_id, int | str) and not isinstance(exc.request_id, bool)
        )
        _need(usable, "a refusal addressed to an unusable id")
        return f"refused:{exc.code}"
    _need(request.method in protocol.REQUESTS, "an unknown method got through")
    _need(isinstance(request.data, dict), "request data is not an object")
    _need(not isinstance(request.id, bool), "a boolean id got through")
    return "request"
