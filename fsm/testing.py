"""Test doubles for every port, and a clock that moves only when the test says so.

They record every call as ``(port, method, args)`` in one shared :class:`CallLog`, and
keep the callbacks the machine handed in so the test decides when (and how) each started
operation finishes. Use them to test your own embedding the way ptt-fsm tests itself::

    fakes = Fakes.create()
    machine = ConnectionMachine(settings, fakes.ports())
    drive = Driver(machine, fakes)
    drive.to_connected()              # connect, open the link, answer every session step
    drive.lose_link()                 # the network drops: reconnecting, backing off
    drive.restore(resumed=True)       # the retry is due, the server resumes the session
    assert machine.state == "connected"
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .domain import AudioSource, Features, FloorAnswer, Joined, Member
from .errors import Cause, LinkError, PttError, TransportError
from .ports import (
    MediaEvents,
    NetworkChange,
    NetworkEvents,
    Ports,
    Reply,
    Result,
    SignalingEvents,
    Tone,
)

Call = tuple[str, str, tuple[Any, ...]]


class CallLog(list[Call]):
    """Every port call in order; ``names()`` gives ``["signaling.open", ...]``."""

    def names(self) -> list[str]:
        return [f"{port}.{method}" for port, method, _ in self]

    def take(self) -> list[str]:
        """Return the call names so far and forget them."""
        names = self.names()
        self.clear()
        return names


class FakeTimer:
    def __init__(self, clock: FakeClock, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self._clock = clock

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A monotonic clock for tests: ``advance(dt)`` fires due timers in time order."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._seq = itertools.count()
        self._heap: list[tuple[float, int, FakeTimer]] = []

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self, self._now + max(0.0, delay), callback)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def pending(self) -> list[FakeTimer]:
        """Timers not yet fired nor cancelled, soonest first."""
        return [t for _, _, t in sorted(self._heap) if not t.cancelled]

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer that falls due on the way."""
        deadline = self._now + seconds
        while self._heap and self._heap[0][0] <= deadline:
            when, _, timer = heapq.heappop(self._heap)
            self._now = max(self._now, when)
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()
        self._now = deadline

    def run_next(self) -> float:
        """Advance exactly to the next pending timer and fire it; returns the time moved."""
        pending = self.pending()
        if not pending:
            raise AssertionError("no pending timer")
        step = pending[0].when - self._now
        self.advance(step)
        return step


@dataclass
class FakeSignaling:
    """The :class:`~fsm.ports.Signaling` port: records calls, keeps the replies.

    ``answer_join``/``answer_floor``/``answer`` finish the oldest pending operation of that
    name; ``events`` is the events object of the open link (call its methods to play the
    server: ``fakes.signaling.events.speaker_changed("bob")``)."""

    log: CallLog
    link: SignalingEvents | None = None
    opens: list[tuple[str, str]] = field(default_factory=list)
    pending_ops: list[tuple[str, tuple[Any, ...], Reply]] = field(default_factory=list)
    #: True from ``open`` until the link is closed by the machine, fails or is lost.
    active: bool = False

    def open(self, url: str, token: str, events: SignalingEvents) -> None:
        self.log.append(("signaling", "open", (url,)))  # the token is never recorded
        self.opens.append((url, token))
        self.link = events
        self.active = True

    def join(self, channel: str, resume_id: str | None, reply: Reply) -> None:
        self._start("join", (channel, resume_id), reply)

    def request_floor(self, tx_id: str, reply: Reply) -> None:
        self._start("request_floor", (tx_id,), reply)

    def release_floor(self, tx_id: str) -> None:
        self.log.append(("signaling", "release_floor", (tx_id,)))

    def send_message(self, msg_id: str, data: Mapping[str, Any], reply: Reply) -> None:
        self._start("send_message", (msg_id, dict(data)), reply)

    def leave(self) -> None:
        self.log.append(("signaling", "leave", ()))

    def probe(self, timeout: float) -> None:
        self.log.append(("signaling", "probe", (timeout,)))

    def close(self) -> None:
        self.log.append(("signaling", "close", ()))
        self.active = False

    def _start(self, operation: str, args: tuple[Any, ...], reply: Reply) -> None:
        self.log.append(("signaling", operation, args))
        self.pending_ops.append((operation, args, reply))

    # --- test controls ---------------------------------------------------------------------
    @property
    def events(self) -> SignalingEvents:
        if self.link is None:
            raise AssertionError("no link was opened")
        return self.link

    def complete_open(self) -> None:
        self.events.opened()

    def fail_open(self, error: LinkError) -> None:
        self.active = False
        self.events.failed(error)

    def lose(self, error: LinkError | None = None) -> None:
        self.active = False
        self.events.lost(error or LinkError("link dropped", cause=Cause.TRANSIENT))

    def pending(self, operation: str | None = None) -> list[tuple[str, tuple[Any, ...], Reply]]:
        return [op for op in self.pending_ops if operation is None or op[0] == operation]

    def answer(self, operation: str, value: Any = None, error: PttError | None = None) -> None:
        """Finish the oldest pending ``operation`` with ``value`` or ``error``."""
        for index, (name, _, reply) in enumerate(self.pending_ops):
            if name == operation:
                del self.pending_ops[index]
                reply(Result(value, error))
                return
        raise AssertionError(f"no pending {operation!r}")

    def answer_join(self, joined: Joined | None = None, error: PttError | None = None) -> None:
        self.answer("join", None if error else joined or joined_ok(), error)

    def answer_floor(self, granted: bool = True, speaker: str | None = None) -> None:
        """Answer the oldest floor request (its own ``tx_id``)."""
        tx_id = next((args[0] for name, args, _ in self.pending_ops if name == "request_floor"), "")
        self.answer("request_floor", FloorAnswer(tx_id or "tx-?", granted, speaker))

    def sent(self) -> list[str]:
        """The operations the machine started on this port, in order."""
        return [name for port, name, _ in self.log if port == "signaling"]


@dataclass
class FakeMedia:
    """The :class:`~fsm.ports.Media` port: records calls, keeps the replies."""

    log: CallLog
    alive: bool = False
    events: MediaEvents | None = None
    pending: dict[str, Reply] = field(default_factory=dict)
    following: tuple[AudioSource, ...] = ()
    transmitting: bool = False
    expecting: bool = False

    def connect(self, events: MediaEvents, reply: Reply) -> None:
        self.log.append(("media", "connect", ()))
        self.events = events
        self.pending["connect"] = reply

    def attach_microphone(self, reply: Reply) -> None:
        self.log.append(("media", "attach_microphone", ()))
        self.pending["attach_microphone"] = reply

    def follow(self, sources: Sequence[AudioSource], reply: Reply) -> None:
        self.log.append(("media", "follow", (tuple(s.source_id for s in sources),)))
        self.following = tuple(sources)
        self.pending["follow"] = reply

    def set_transmitting(self, on: bool) -> None:
        self.log.append(("media", "set_transmitting", (on,)))
        self.transmitting = on

    def expect_audio(self, on: bool) -> None:
        self.log.append(("media", "expect_audio", (on,)))
        self.expecting = on

    def is_alive(self) -> bool:
        return self.alive

    def close(self) -> None:
        self.log.append(("media", "close", ()))
        self.alive = False
        self.following = ()
        self.transmitting = False

    # --- test controls ---------------------------------------------------------------------
    def complete(self, what: str, error: PttError | None = None, value: Any = None) -> None:
        reply = self.pending.pop(what)
        if what == "connect" and error is None:
            self.alive = True
        reply(Result(value, error))

    def fail_media(self, error: TransportError | None = None) -> None:
        if self.events is None:
            raise AssertionError("no media was connected")
        self.alive = False
        self.events.failed(error or TransportError("media path dead"))


@dataclass
class FakeNetworkWatch:
    """The :class:`~fsm.ports.NetworkWatch` port: ``report(change)`` plays the kernel."""

    log: CallLog
    events: NetworkEvents | None = None
    host: str | None = None

    def start(self, host: str, events: NetworkEvents) -> None:
        self.log.append(("network", "start", (host,)))
        self.host, self.events = host, events

    def stop(self) -> None:
        self.log.append(("network", "stop", ()))
        self.events = None

    def report(self, change: NetworkChange) -> None:
        if self.events is None:
            raise AssertionError("the network watch is not running")
        self.events.changed(change)


@dataclass
class FakeAudio:
    log: CallLog
    pending: Reply | None = None
    tones: list[Tone] = field(default_factory=list)
    running: bool = False

    def start(self, reply: Reply) -> None:
        self.log.append(("audio", "start", ()))
        self.pending = reply

    def stop(self) -> None:
        self.log.append(("audio", "stop", ()))
        self.running = False

    def play_tone(self, tone: Tone) -> None:
        self.log.append(("audio", "play_tone", (tone.value,)))
        self.tones.append(tone)

    def complete(self, error: PttError | None = None) -> None:
        if self.pending is None:
            raise AssertionError("audio was not started")
        reply, self.pending = self.pending, None
        self.running = error is None
        reply(Result(None, error))


@dataclass
class FakeTokens:
    log: CallLog
    pending: Reply | None = None
    cancelled: int = 0

    def refresh(self, reply: Reply) -> None:
        self.log.append(("tokens", "refresh", ()))
        self.pending = reply

    def cancel(self) -> None:
        self.cancelled += 1

    def complete(self, token: str | None = "fresh-token", error: PttError | None = None) -> None:
        if self.pending is None:
            raise AssertionError("no refresh in progress")
        reply, self.pending = self.pending, None
        reply(Result(token, error))


@dataclass
class Fakes:
    """One fake per port, sharing one :class:`CallLog`."""

    clock: FakeClock
    log: CallLog
    signaling: FakeSignaling
    media: FakeMedia
    network: FakeNetworkWatch
    audio: FakeAudio
    tokens: FakeTokens

    @classmethod
    def create(cls, clock: FakeClock | None = None) -> Fakes:
        log = CallLog()
        return cls(
            clock=clock or FakeClock(),
            log=log,
            signaling=FakeSignaling(log),
            media=FakeMedia(log),
            network=FakeNetworkWatch(log),
            audio=FakeAudio(log),
            tokens=FakeTokens(log),
        )

    def ports(
        self,
        *,
        media: bool = True,
        tokens: bool = True,
        network: bool = False,
        features: Features | None = None,
    ) -> Ports:
        return Ports(
            signaling=self.signaling,
            clock=self.clock,
            media=self.media if media else None,
            audio=self.audio if media else None,
            tokens=self.tokens if tokens else None,
            network=self.network if network else None,
            features=features or Features(),
        )


def joined_ok(
    *,
    peer_id: str = "me",
    resume_id: str | None = "s-1",
    resumed: bool = False,
    others: Sequence[str] = ("bob",),
    speaker: str | None = None,
) -> Joined:
    """A healthy join answer: us and ``others``, each with an audio source."""
    members = (Member(peer_id), *(Member(p, p) for p in others))
    sources = tuple(AudioSource(f"src-{p}", p) for p in others)
    return Joined(peer_id, resume_id, resumed, members, speaker, sources)


class Driver:
    """Brings a machine on :class:`Fakes` to ``connected`` and through outages in a line
    each, answering every port call the way a healthy server and media stack would.

    Every step goes through the real transitions and actions; only the answers are
    canned. Use it to test your own listeners, UIs and embeddings."""

    def __init__(self, machine: Any, fakes: Fakes) -> None:
        self.machine = machine
        self.fakes = fakes

    def finish_steps(
        self,
        *,
        joined: Joined | None = None,
        attach_error: PttError | None = None,
        floor_granted: bool = True,
        until: str | None = None,
    ) -> None:
        """Answer every pending session step, in order, until the plan is done (or until
        the step named ``until`` is the one in progress, left unanswered)."""
        m, f = self.machine, self.fakes
        for _ in range(20):
            step = m.step
            if step is None or step.value == until:
                return
            if step.value == "join":
                f.signaling.answer_join(joined)
            elif step.value == "connect_media":
                f.media.complete("connect")
            elif step.value == "open_audio":
                f.audio.complete()
            elif step.value == "attach_microphone":
                f.media.complete("attach_microphone", error=attach_error)
            elif step.value == "follow_sources":
                f.media.complete("follow")
            elif step.value == "request_floor":
                f.signaling.answer_floor(granted=floor_granted)
            else:
                raise AssertionError(f"step {step} did not finish by itself")
        raise AssertionError("session steps did not finish")

    def to_connected(self, *, joined: Joined | None = None, token: str | None = None) -> None:
        """``idle`` (or ``disconnected``/``error``) to ``connected``."""
        self.machine.send("connect", token=token)
        self.finish_open(joined=joined)

    def finish_open(self, *, joined: Joined | None = None) -> None:
        """``connecting.dialing`` to ``connected``: the link opens, every step answers."""
        self.fakes.signaling.complete_open()
        self.finish_steps(joined=joined)
        self._expect("connected")

    def lose_link(self, error: LinkError | None = None) -> None:
        """The link drops: the machine reconnects (``reconnecting.backing_off``)."""
        self.fakes.signaling.lose(error)
        self._expect("reconnecting")

    def restore(self, *, resumed: bool = True, joined: Joined | None = None) -> None:
        """Let the retry fire, open the link, answer the restore's steps: ``connected``."""
        if self.machine.detail == "backing_off":
            self.fakes.clock.run_next()
        self.fakes.signaling.complete_open()
        if joined is None:
            joined = joined_ok(resume_id=self.machine.channel.resume_id or "s-1", resumed=resumed)
        self.finish_steps(joined=joined)
        self._expect("connected")

    def _expect(self, state: str) -> None:
        if self.machine.state != state:
            where = f"{self.machine.state} ({self.machine.detail})"
            raise AssertionError(f"expected {state}, machine is {where}: {self.machine.reason}")
