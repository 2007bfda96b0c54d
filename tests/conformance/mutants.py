"""Broken backends: the reference backend with one contract rule broken on purpose each,
so the kit's own tests can show that every case catches what it claims to.

Each mutant wraps the real ports and bends one thing (a swallowed fact, a reply called
twice, a callback after close...); everything else is forwarded untouched."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from adapters.backends.base import BackendContext, BackendPorts
from fsm.domain import (
    AudioSource,
    ChannelMessage,
    Features,
    FloorAnswer,
    FloorLost,
    Joined,
    Member,
)
from fsm.errors import Cause, LinkError
from fsm.ports import Media, MediaEvents, Reply, Result, Signaling, SignalingEvents

from .reference_harness import OPTIONS, ReferenceHarness


class Events:
    """Forwards every ``SignalingEvents`` call; mutants override one."""

    def __init__(self, inner: SignalingEvents) -> None:
        self.inner = inner

    def opened(self) -> None:
        self.inner.opened()

    def failed(self, error: LinkError) -> None:
        self.inner.failed(error)

    def lost(self, error: LinkError) -> None:
        self.inner.lost(error)

    def member_joined(self, member: Member) -> None:
        self.inner.member_joined(member)

    def member_left(self, peer_id: str) -> None:
        self.inner.member_left(peer_id)

    def speaker_changed(self, peer_id: str | None) -> None:
        self.inner.speaker_changed(peer_id)

    def floor_lost(self, tx_id: str | None, why: FloorLost) -> None:
        self.inner.floor_lost(tx_id, why)

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        self.inner.sources_changed(sources)

    def message(self, message: ChannelMessage) -> None:
        self.inner.message(message)


class Sig:
    """Forwards every ``Signaling`` call, wrapping the events in ``events_type``."""

    events_type: type[Events] = Events

    def __init__(self, inner: Signaling) -> None:
        self.inner = inner
        self.events: SignalingEvents | None = None

    def open(self, url: str, token: str, events: SignalingEvents) -> None:
        self.events = events
        self.inner.open(url, token, self.events_type(events))

    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        self.inner.join(channel, resume_id, reply)

    def request_floor(self, tx_id: str, reply: Reply) -> None:
        self.inner.request_floor(tx_id, reply)

    def release_floor(self, tx_id: str) -> None:
        self.inner.release_floor(tx_id)

    def send_message(self, msg_id: str, data: Mapping[str, Any], reply: Reply) -> None:
        self.inner.send_message(msg_id, data, reply)

    def leave(self) -> None:
        self.inner.leave()

    def probe(self, timeout: float) -> None:
        self.inner.probe(timeout)

    def close(self) -> None:
        self.inner.close()


class Med:
    """Forwards every ``Media`` call."""

    def __init__(self, inner: Media) -> None:
        self.inner = inner

    def connect(self, events: MediaEvents, reply: Reply) -> None:
        self.inner.connect(events, reply)

    def attach_microphone(self, reply: Reply) -> None:
        self.inner.attach_microphone(reply)

    def follow(self, sources: Sequence[AudioSource], reply: Reply) -> None:
        self.inner.follow(sources, reply)

    def set_transmitting(self, on: bool) -> None:
        self.inner.set_transmitting(on)

    def expect_audio(self, on: bool) -> None:
        self.inner.expect_audio(on)

    def is_alive(self) -> bool:
        return self.inner.is_alive()

    def close(self) -> None:
        self.inner.close()


def mapped(reply: Reply, change: Callable[[Any], Any]) -> Reply:
    """``reply`` with its ok value passed through ``change``."""

    def forward(result: Result[Any]) -> None:
        reply(Result(value=change(result.value)) if result.ok else result)

    return forward


class MutantBackend:
    name = "mutant"

    def __init__(self, signaling: type[Sig] = Sig, media: type[Med] = Med) -> None:
        from adapters.backends.reference import ReferenceBackend

        self.real = ReferenceBackend(OPTIONS)
        self.features: Features = self.real.features
        self._signaling, self._media = signaling, media

    def build(self, context: BackendContext) -> BackendPorts:
        ports = self.real.build(context)
        media = self._media(ports.media) if ports.media is not None else None
        return BackendPorts(signaling=self._signaling(ports.signaling), media=media)


class MutantHarness(ReferenceHarness):
    def __init__(self, backend: MutantBackend) -> None:
        super().__init__()
        self.backend = backend
        # A mutant fails by timing out in some cases: keep those failures quick.
        self.capabilities = dataclasses.replace(self.capabilities, patience=5.0)


# --- the mutants ---------------------------------------------------------------------------
class NoMemberJoined(Sig):
    class events_type(Events):
        def member_joined(self, member: Member) -> None:
            pass


class NoSpeakerNone(Sig):
    class events_type(Events):
        def speaker_changed(self, peer_id: str | None) -> None:
            if peer_id is not None:
                self.inner.speaker_changed(peer_id)


class LostTwice(Sig):
    class events_type(Events):
        def lost(self, error: LinkError) -> None:
            self.inner.lost(error)
            self.inner.lost(error)


class WrongLossReason(Sig):
    class events_type(Events):
        def floor_lost(self, tx_id: str | None, why: FloorLost) -> None:
            self.inner.floor_lost(tx_id, FloorLost.RELEASED)


class DeltaSources(Sig):
    class events_type(Events):
        seen: frozenset[str] = frozenset()

        def sources_changed(self, sources: Sequence[AudioSource]) -> None:
            new = [s for s in sources if s.source_id not in self.seen]
            self.seen = frozenset(s.source_id for s in sources)
            self.inner.sources_changed(new)


class GarbledMessage(Sig):
    class events_type(Events):
        def message(self, message: ChannelMessage) -> None:
            self.inner.message(dataclasses.replace(message, data={"garbled": True}))


class NoAuthCause(Sig):
    class events_type(Events):
        def failed(self, error: LinkError) -> None:
            self.inner.failed(LinkError("something failed", cause=Cause.TRANSIENT))


class DoubleJoinReply(Sig):
    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        def twice(result: Result[Any]) -> None:
            reply(result)
            reply(result)

        self.inner.join(channel, resume_id, twice)


class NotAmongMembers(Sig):
    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        def without_us(joined: Joined) -> Joined:
            members = tuple(m for m in joined.members if m.peer_id != joined.peer_id)
            return dataclasses.replace(joined, members=members)

        self.inner.join(channel, resume_id, mapped(reply, without_us))


class ClaimsResumed(Sig):
    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        resumed = mapped(reply, lambda joined: dataclasses.replace(joined, resumed=True))
        self.inner.join(channel, resume_id, resumed)


class ForgetsResume(Sig):
    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        self.inner.join(channel, None, reply)


class SyncFloorReply(Sig):
    def request_floor(self, tx_id: str, reply: Reply) -> None:
        reply(Result(value=FloorAnswer(tx_id=tx_id, granted=True)))


class AlwaysGranted(Sig):
    def request_floor(self, tx_id: str, reply: Reply) -> None:
        granted = mapped(reply, lambda a: dataclasses.replace(a, granted=True, speaker=None))
        self.inner.request_floor(tx_id, granted)


class CallbackAfterClose(Sig):
    def close(self) -> None:
        self.inner.close()
        events = self.events
        if events is not None:
            asyncio.get_running_loop().call_later(0.05, events.speaker_changed, None)


class DropsRepliesAtClose(Sig):
    closed = False

    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        def unless_closed(result: Result[Any]) -> None:
            if not self.closed:
                reply(result)

        self.inner.join(channel, resume_id, unless_closed)

    def close(self) -> None:
        self.closed = True
        self.inner.close()


class OpenSurvivesClose(Sig):
    class events_type(Events):
        def opened(self) -> None:
            self.inner.opened()
            self.is_open = True

    def open(self, url: str, token: str, events: SignalingEvents) -> None:
        self.opener = self.events_type(events)
        self.inner.open(url, token, self.opener)

    def close(self) -> None:
        if getattr(self.opener, "is_open", False):
            self.inner.close()  # an open in progress is left to finish


class NeverCloses(Sig):
    def close(self) -> None:
        pass


class ImmortalMedia(Med):
    def is_alive(self) -> bool:
        return True
