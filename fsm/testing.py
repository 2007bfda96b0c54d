"""Test doubles for every port, and a clock that moves only when the test says so.

They record every call as ``(port, method, args)`` in one shared :class:`CallLog`, and
keep the callbacks the machine handed in so the test decides when (and how) each started
operation finishes. Use them to test your own embedding the way ptt-fsm tests itself::

    clock = FakeClock()
    fakes = Fakes.create(clock)
    machine = ConnectionMachine(settings, fakes.ports())
    machine.send("connect")
    fakes.signaling.complete_open()
    clock.advance(1.0)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import LinkError, PttError, TransportError
from .ports import LinkEvents, MediaEvents, Ports, Reply, Result, Tone

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
    log: CallLog
    events: LinkEvents | None = None
    opens: list[tuple[str, str]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any], Reply]] = field(default_factory=list)
    closed_with: list[tuple[int, str]] = field(default_factory=list)
    #: True from ``open`` until the link is closed by the machine, fails or is lost.
    active: bool = False

    def open(self, url: str, token: str, events: LinkEvents) -> None:
        self.log.append(("signaling", "open", (url,)))  # the token is never recorded
        self.opens.append((url, token))
        self.events = events
        self.active = True

    def request(self, method: str, data: Mapping[str, Any], reply: Reply) -> None:
        self.log.append(("signaling", "request", (method, dict(data))))
        self.requests.append((method, dict(data), reply))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.log.append(("signaling", "close", (code,)))
        self.closed_with.append((code, reason))
        self.active = False

    # --- test controls ---------------------------------------------------------------------
    def _events(self) -> LinkEvents:
        if self.events is None:
            raise AssertionError("no link was opened")
        return self.events

    def complete_open(self) -> None:
        self._events().opened()

    def fail_open(self, error: LinkError) -> None:
        self.active = False
        self._events().failed(error)

    def lose(self, error: LinkError | None = None) -> None:
        self.active = False
        self._events().lost(error or LinkError(close_code=1006))

    def notify(self, method: str, data: Mapping[str, Any]) -> None:
        self._events().notification(method, data)

    def pending(self, method: str | None = None) -> list[tuple[str, dict[str, Any], Reply]]:
        return [r for r in self.requests if method is None or r[0] == method]

    def answer(self, method: str, value: Any = None, error: PttError | None = None) -> None:
        """Answer the oldest unanswered request for ``method``."""
        for index, (name, _, reply) in enumerate(self.requests):
            if name == method:
                del self.requests[index]
                reply(Result(value if value is not None else {}, error))
                return
        raise AssertionError(f"no pending {method!r} request")

    def sent(self) -> list[str]:
        return [
            args[0] for port, name, args in self.log if port == "signaling" and name == "request"
        ]


@dataclass
class FakeTransports:
    log: CallLog
    alive: bool = False
    events: MediaEvents | None = None
    pending: dict[str, Reply] = field(default_factory=dict)
    consumers: list[str] = field(default_factory=list)
    transmitting: bool = False
    expecting: bool = False

    def create(self, capabilities: Mapping[str, Any], events: MediaEvents, reply: Reply) -> None:
        self.log.append(("transports", "create", ()))
        self.events = events
        self.pending["create"] = reply

    def produce(self, reply: Reply) -> None:
        self.log.append(("transports", "produce", ()))
        self.pending["produce"] = reply

    def consume(self, producers: Sequence[str], reply: Reply) -> None:
        self.log.append(("transports", "consume", (tuple(producers),)))
        self.consumers = list(producers)
        self.pending["consume"] = reply

    def set_transmitting(self, on: bool) -> None:
        self.log.append(("transports", "set_transmitting", (on,)))
        self.transmitting = on

    def expect_audio(self, on: bool) -> None:
        self.log.append(("transports", "expect_audio", (on,)))
        self.expecting = on

    def is_alive(self) -> bool:
        return self.alive

    def close(self) -> None:
        self.log.append(("transports", "close", ()))
        self.alive = False
        self.consumers = []
        self.transmitting = False

    # --- test controls ---------------------------------------------------------------------
    def complete(self, what: str, error: PttError | None = None, value: Any = None) -> None:
        reply = self.pending.pop(what)
        if what == "create" and error is None:
            self.alive = True
        reply(Result(value, error))

    def fail_media(self, error: TransportError | None = None) -> None:
        if self.events is None:
            raise AssertionError("no transports were created")
        self.alive = False
        self.events.failed(error or TransportError("media path dead"))


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
    transports: FakeTransports
    audio: FakeAudio
    tokens: FakeTokens

    @classmethod
    def create(cls, clock: FakeClock | None = None) -> Fakes:
        log = CallLog()
        return cls(
            clock=clock or FakeClock(),
            log=log,
            signaling=FakeSignaling(log),
            transports=FakeTransports(log),
            audio=FakeAudio(log),
            tokens=FakeTokens(log),
        )

    def ports(self, *, media: bool = True, tokens: bool = True) -> Ports:
        return Ports(
            signaling=self.signaling,
            clock=self.clock,
            transports=self.transports if media else None,
            audio=self.audio if media else None,
            tokens=self.tokens if tokens else None,
        )
