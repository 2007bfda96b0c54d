"""Media liveness: notice a dead media path in seconds instead of aiortc's ~30 s.

aiortc reports a dead path only when ICE consent expires (about 32 s, STACK.md). While
audio is expected we poll ``getStats()`` instead and give up once it stops moving:

- receiving (a remote speaker holds the floor): the consumers' ``inbound-rtp``
  ``packetsReceived`` must grow;
- transmitting (we hold the floor): RTCP receiver reports about our stream must keep
  arriving (the ``remote-inbound-rtp`` stat is refreshed by each one).

Each check is a *probe*: an async function returning a token that changes whenever media
moves. A check fails when its token has not changed for its window since it was armed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from fsm.errors import MediaTimeout
from fsm.logs import get_logger

log = get_logger("ptt.transports")

Probe = Callable[[], Awaitable[Hashable]]

_UNSET = object()


@dataclass(eq=False)
class _Check:
    probe: Probe
    window: float
    reason: str
    armed_at: float
    token: Hashable = _UNSET
    moved_at: float = 0.0


class LivenessWatch:
    """Runs armed checks from one polling task; reports the first timeout once, then stops."""

    def __init__(
        self, on_dead: Callable[[MediaTimeout], None], *, poll_interval: float = 0.25
    ) -> None:
        self._on_dead = on_dead
        self._poll_interval = poll_interval
        self._checks: dict[str, _Check] = {}
        self._task: asyncio.Task[None] | None = None
        self._done = False

    def arm(self, name: str, probe: Probe, window: float, reason: str) -> None:
        """Start check ``name`` (a re-arm of a running check keeps its progress)."""
        if self._done or name in self._checks:
            return
        now = asyncio.get_running_loop().time()
        self._checks[name] = _Check(probe, window, reason, armed_at=now, moved_at=now)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def disarm(self, name: str) -> None:
        self._checks.pop(name, None)

    def armed(self, name: str) -> bool:
        return name in self._checks

    async def stop(self) -> None:
        """Stop for good; no report after this returns."""
        self._done = True
        self._checks.clear()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._checks and not self._done:
            interval = min([self._poll_interval] + [c.window / 4 for c in self._checks.values()])
            await asyncio.sleep(interval)
            for name, check in list(self._checks.items()):
                try:
                    token = await check.probe()
                except Exception as exc:  # a closing pc: its state change reports the failure
                    log.debug("liveness_probe_failed", check=name, error=repr(exc))
                    token = check.token
                now = loop.time()
                if self._checks.get(name) is not check:
                    continue  # disarmed while we were probing
                if check.token is _UNSET:
                    check.token = token  # the baseline: what had arrived before we armed
                elif token != check.token:
                    check.token, check.moved_at = token, now
                if now - check.moved_at > check.window and not self._done:
                    self._done = True
                    self._checks.clear()
                    log.warning("media_timeout", check=name, window=check.window)
                    self._on_dead(MediaTimeout(f"{check.reason} for {check.window:g} s"))
                    return
