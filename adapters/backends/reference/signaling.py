"""``ReferenceSignaling``: the :class:`fsm.ports.Signaling` port on the reference link.

It turns port calls into the reference protocol's requests and everything the server says
into :mod:`fsm.domain` values (:mod:`.codec`), so the machine never sees a method name, a
payload key or a close code. A malformed notification is counted in :attr:`dropped` and
dropped; a malformed answer fails its request with ``ProtocolViolation``.

It also keeps the picture of the remote audio sources of the current link (the join
answer's producers, then ``newProducer``/``producerClosed``) and reports the whole set
with ``sources_changed`` whenever it changes. The join answer itself carries the first
set (``Joined.sources``), so joining reports no ``sources_changed``.

Across links it remembers the last message ``seq`` it delivered in the current session
(:class:`_Delivered`): a resuming join says it (``last_seq``), so the server replays
everything after it, and a replayed message already delivered is dropped, so the machine
sees each message once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fsm.domain import AudioSource, Joined
from fsm.errors import LinkError, ProtocolViolation
from fsm.logs import get_logger
from fsm.ports import Reply, Result, SignalingEvents

from . import protocol
from .codec import (
    FloorRevoked,
    MemberJoined,
    MemberLeft,
    MessageReceived,
    Notification,
    SourceAdded,
    SourceRemoved,
    SpeakerChanged,
    decode_floor_answer,
    decode_joined,
    decode_notification,
    encode_message,
)
from .link import WebSocketLink

log = get_logger("ptt.signaling")


class ReferenceSignaling:
    """Implements :class:`fsm.ports.Signaling` for the reference server over ``link``."""

    def __init__(self, link: WebSocketLink) -> None:
        self.link = link
        self._channel: str | None = None
        self._current: _LinkView | None = None
        self._delivered = _Delivered()

    # --- fsm.ports.Signaling ---------------------------------------------------------------
    def open(self, url: str, token: str, events: SignalingEvents) -> None:
        view = self._current = _LinkView(events, self.link.count_drop, self._delivered)
        self.link.open(url, token, view)

    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        self._channel = channel
        data: dict[str, Any] = {"channel": channel}
        if resume_id is not None:
            data["session_id"] = resume_id
            last_seq = self._delivered.last_seq(resume_id)
            if last_seq is not None:
                data[protocol.LAST_SEQ] = last_seq
        view = self._current

        def joined(value: object) -> object:
            result = decode_joined(value)
            # Synchronous with the answer's frame: the replay behind it is judged by it.
            self._delivered.joined(result)
            if view is not None:
                view.reset_sources(result.sources)
            return result

        self.link.request(protocol.JOIN, data, _decoding(protocol.JOIN, joined, reply))

    def request_floor(self, tx_id: str, reply: Reply) -> None:
        def answer(value: object) -> object:
            return decode_floor_answer(value, tx_id)

        decoded = _decoding(protocol.PTT_START, answer, reply)
        self.link.request(protocol.PTT_START, {"tx_id": tx_id}, decoded)

    def release_floor(self, tx_id: str) -> None:
        self.link.request(protocol.PTT_STOP, {"tx_id": tx_id}, _unanswered(protocol.PTT_STOP))

    def send_message(self, msg_id: str, data: Mapping[str, Any], reply: Reply) -> None:
        # The answer is {} or {"duplicate": true}: either way the server has the message.
        decoded = _decoding(protocol.MESSAGE, lambda _: None, reply)
        self.link.request(protocol.MESSAGE, encode_message(msg_id, data), decoded)

    def leave(self) -> None:
        if self._channel is not None:
            data = {"channel": self._channel}
            self.link.request(protocol.LEAVE, data, _unanswered(protocol.LEAVE))

    def probe(self, timeout: float) -> None:
        self.link.probe(timeout)

    def close(self) -> None:
        self._current = None
        self.link.close(protocol.CLOSE_NORMAL)

    # --- diagnostics and lifecycle ---------------------------------------------------------
    @property
    def dropped(self) -> dict[str, int]:
        """Frames from the server dropped as malformed or unknown, by reason."""
        return self.link.dropped

    @property
    def is_open(self) -> bool:
        return self.link.is_open

    def sources(self) -> tuple[AudioSource, ...]:
        """The remote audio sources of the current link, as last reported."""
        return () if self._current is None else self._current.sources()

    async def aclose(self) -> None:
        """Close the link and wait until every socket and task of it is gone."""
        self._current = None
        await self.link.aclose()


class _LinkView:
    """The ``LinkEvents`` of one open: decodes notifications for one ``SignalingEvents``."""

    def __init__(
        self, events: SignalingEvents, count_drop: Callable[[str], None], delivered: _Delivered
    ) -> None:
        self._events = events
        self._count_drop = count_drop
        self._delivered = delivered
        self._sources: dict[str, AudioSource] = {}

    def opened(self) -> None:
        self._events.opened()

    def failed(self, error: LinkError) -> None:
        self._events.failed(error)

    def lost(self, error: LinkError) -> None:
        self._events.lost(error)

    def notification(self, method: str, data: Mapping[str, Any]) -> None:
        try:
            fact = decode_notification(method, data)
        except ProtocolViolation as exc:
            self._count_drop("bad_notification")
            log.warning("ptt.signaling.dropped_notification", method=method[:64], error=str(exc))
            return
        if fact is None:
            self._count_drop("unknown_notification")
            log.debug("ptt.signaling.unknown_notification", method=method[:64])
            return
        self._deliver(fact)

    def _deliver(self, fact: Notification) -> None:
        events = self._events
        match fact:
            case SpeakerChanged(peer_id):
                events.speaker_changed(peer_id)
            case MemberJoined(member):
                events.member_joined(member)
            case MemberLeft(peer_id):
                events.member_left(peer_id)
            case FloorRevoked(tx_id, why):
                events.floor_lost(tx_id, why)
            case MessageReceived(message, seq):
                if self._delivered.first_time(seq):
                    events.message(message)
                else:
                    self._count_drop("replayed_duplicate")
                    log.debug("ptt.signaling.replayed_duplicate", seq=seq)
            case SourceAdded(source):
                if self._sources.get(source.source_id) != source:
                    self._sources[source.source_id] = source
                    events.sources_changed(self.sources())
            case SourceRemoved(source_id):
                if self._sources.pop(source_id, None) is not None:
                    events.sources_changed(self.sources())

    def reset_sources(self, sources: tuple[AudioSource, ...]) -> None:
        self._sources = {s.source_id: s for s in sources}

    def sources(self) -> tuple[AudioSource, ...]:
        return tuple(self._sources.values())


class _Delivered:
    """The last message seq delivered to the machine, and the session it counts in."""

    def __init__(self) -> None:
        self._session: str | None = None
        self._last = 0

    def last_seq(self, resume_id: str) -> int | None:
        """What a join resuming ``resume_id`` says it has (``None``: not our session)."""
        return self._last if resume_id == self._session else None

    def joined(self, joined: Joined) -> None:
        """A fresh session (or one we did not count) numbers its messages from 1 again."""
        if not joined.resumed or joined.resume_id != self._session:
            self._session, self._last = joined.resume_id, 0

    def first_time(self, seq: int | None) -> bool:
        """True unless ``seq`` was delivered already (a message without one always is new)."""
        if seq is None:
            return True
        if seq <= self._last:
            return False
        self._last = seq
        return True


def _decoding(operation: str, decode: Callable[[object], object], reply: Reply) -> Reply:
    """A link reply that hands ``reply`` the decoded answer, or why there is none."""

    def answered(result: Result[Any]) -> None:
        if result.error is not None:
            reply(result)
            return
        try:
            value = decode(result.value)
        except ProtocolViolation as exc:
            log.warning("ptt.signaling.bad_answer", operation=operation, error=str(exc))
            reply(Result(error=exc))
            return
        except Exception as exc:  # a decoder bug must still answer the request once
            log.exception("ptt.signaling.decoder_failed", operation=operation)
            violation = ProtocolViolation(f"undecodable {operation} answer: {exc!r:.80}")
            violation.__cause__ = exc
            reply(Result(error=violation))
            return
        reply(Result(value=value))

    return answered


def _unanswered(operation: str) -> Reply:
    """The reply of a fire-and-forget request: a failure is only worth a log line."""

    def answered(result: Result[Any]) -> None:
        if result.error is not None:
            log.debug("ptt.signaling.unanswered", operation=operation, error=str(result.error))

    return answered
