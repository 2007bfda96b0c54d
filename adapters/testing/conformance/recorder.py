"""Recording implementations of the ports' event interfaces, awaitable by the cases.

:class:`RecordingEvents` is a :class:`~fsm.ports.SignalingEvents` that keeps every call
in order and checks the link rules as they happen: ``opened`` at most once, then exactly
one of ``failed`` (never opened) or ``lost`` (was open), nothing after that, nothing after
the kit closed the link. Backend authors can use it in their own tests::

    events = RecordingEvents(Rules("alice"))
    signaling.open(url, token, events)
    await events.wait_for("opened", within=5)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fsm.domain import AudioSource, ChannelMessage, FloorLost, Member
from fsm.errors import LinkError, TransportError

from .failures import ConformanceError
from .rules import Rules

_FINAL = ("failed", "lost")


@dataclass(frozen=True)
class Call:
    """One callback: its name, its arguments and the loop time it came at."""

    kind: str
    args: tuple[Any, ...]
    at: float

    @property
    def arg(self) -> Any:
        """The first argument (most callbacks have exactly one)."""
        return self.args[0]


class _Recording:
    def __init__(self, rules: Rules, label: str) -> None:
        self.rules = rules
        self.label = label
        self.calls: list[Call] = []
        self.closed = False  # set by the kit when it closes what reports here
        self._changed = asyncio.Event()

    def _record(self, kind: str, *args: Any) -> None:
        what = f"{self.label}.{kind}"
        self.rules.callback(what)
        if self.closed:
            self.rules.broken(f"{what}{_show(args)} was called after close()")
        self._check(kind, args)
        self.calls.append(Call(kind, args, asyncio.get_running_loop().time()))
        self._changed.set()

    def _check(self, kind: str, args: tuple[Any, ...]) -> None:
        """Subclasses add their ordering rules."""

    def of(self, kind: str | tuple[str, ...], since: int = 0) -> list[Call]:
        kinds = (kind,) if isinstance(kind, str) else kind
        return [c for c in self.calls[since:] if c.kind in kinds]

    def count(self, kind: str) -> int:
        return len(self.of(kind))

    def mark(self) -> int:
        """An index for ``since=``: only calls recorded from now on."""
        return len(self.calls)

    async def wait_for(
        self,
        kind: str | tuple[str, ...],
        match: Callable[[Call], bool] | None = None,
        *,
        since: int = 0,
        within: float,
        what: str = "",
    ) -> Call:
        """The first call of ``kind`` (a name or a tuple of names) at index >= ``since``
        that ``match``es; :class:`ConformanceError` (listing what came instead) if none
        came within ``within`` s."""

        def found() -> Call | None:
            return next((c for c in self.of(kind, since) if match is None or match(c)), None)

        try:
            async with asyncio.timeout(within):
                while (call := found()) is None:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            seen = ", ".join(f"{c.kind}{_show(c.args)}" for c in self.calls[since:][-10:])
            raise ConformanceError(
                f"{self.rules.client}: no {what or kind!s} within {within} s"
                f" (callbacks since: {seen or 'none'})"
            ) from None
        return call


class RecordingEvents(_Recording):
    """A :class:`~fsm.ports.SignalingEvents` that records and checks every call."""

    def __init__(self, rules: Rules, label: str = "events") -> None:
        super().__init__(rules, label)

    def _check(self, kind: str, args: tuple[Any, ...]) -> None:
        what = f"{self.label}.{kind}"
        if any(c.kind in _FINAL for c in self.calls):
            end = next(c.kind for c in self.calls if c.kind in _FINAL)
            self.rules.broken(f"{what} was called after {end}")
        opened = any(c.kind == "opened" for c in self.calls)
        if kind == "opened" and opened:
            self.rules.broken(f"{what} was called twice")
        if kind == "failed" and opened:
            self.rules.broken(f"{what} after opened (a loss after opened is lost())")
        if kind == "lost" and not opened:
            self.rules.broken(f"{what} before opened (a failure to open is failed())")
        if kind in _FINAL and not isinstance(args[0], LinkError):
            self.rules.broken(f"{what} got {args[0]!r}, not a LinkError")
        if kind not in ("opened", *_FINAL) and not opened:
            self.rules.broken(f"{what} before opened")

    def opened(self) -> None:
        self._record("opened")

    def failed(self, error: LinkError) -> None:
        self._record("failed", error)

    def lost(self, error: LinkError) -> None:
        self._record("lost", error)

    def member_joined(self, member: Member) -> None:
        self._typed("member_joined", member, Member)
        self._record("member_joined", member)

    def member_left(self, peer_id: str) -> None:
        self._typed("member_left", peer_id, str)
        self._record("member_left", peer_id)

    def speaker_changed(self, peer_id: str | None) -> None:
        if peer_id is not None:
            self._typed("speaker_changed", peer_id, str)
        self._record("speaker_changed", peer_id)

    def floor_lost(self, tx_id: str | None, why: FloorLost) -> None:
        self._typed("floor_lost", why, FloorLost)
        self._record("floor_lost", tx_id, why)

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        if not all(isinstance(s, AudioSource) for s in sources):
            self.rules.broken(f"{self.label}.sources_changed got {sources!r:.80}")
        ids = [s.source_id for s in sources]
        if len(set(ids)) != len(ids):
            self.rules.broken(f"{self.label}.sources_changed repeats a source: {ids}")
        self._record("sources_changed", tuple(sources))

    def message(self, message: ChannelMessage) -> None:
        self._typed("message", message, ChannelMessage)
        self._record("message", message)

    def _typed(self, kind: str, value: object, expected: type) -> None:
        if not isinstance(value, expected):
            self.rules.broken(f"{self.label}.{kind} got {value!r:.60}, not a {expected.__name__}")


class RecordingMediaEvents(_Recording):
    """A :class:`~fsm.ports.MediaEvents` that records and checks every call."""

    def __init__(self, rules: Rules, label: str = "media_events") -> None:
        super().__init__(rules, label)

    def _check(self, kind: str, args: tuple[Any, ...]) -> None:
        if not isinstance(args[0], TransportError):
            self.rules.broken(f"{self.label}.failed got {args[0]!r}, not a TransportError")

    def failed(self, error: TransportError) -> None:
        self._record("failed", error)


def _show(args: tuple[Any, ...]) -> str:
    return "(" + ", ".join(f"{a!r:.60}" for a in args) + ")"
