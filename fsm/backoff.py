"""Reconnect delay policies: pure objects, randomness injected.

The machine asks ``policy.delay(attempt, retry_after)`` when it enters the backoff wait;
only the clock adapter actually waits. Attempts count from 1.

Every policy keeps its delays between two bounds whatever its schedule or the server says:
a floor (``min_delay``, default :data:`MIN_DELAY`) so a zero delay against a flapping
server cannot spin the CPU, and a ceiling on the server's Retry-After
(``max_retry_after``, default :data:`MAX_RETRY_AFTER`) so an absurd value is capped
rather than obeyed or ignored.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from .errors import ConfigError

#: Returns a float in [0, 1); tests pass a constant or a seeded generator.
Random = Callable[[], float]

#: The shortest wait between two attempts (seconds): no schedule retries faster.
MIN_DELAY = 0.05
#: The longest Retry-After honoured (seconds); a larger one is capped to this.
MAX_RETRY_AFTER = 3600.0


@runtime_checkable
class BackoffPolicy(Protocol):
    """How long to wait before reconnect attempt ``attempt`` (1-based)."""

    @property
    def max_attempts(self) -> int | None:
        """``None``: try forever; otherwise the machine gives up after this many attempts."""

    def delay(self, attempt: int, retry_after: float | None = None) -> float: ...


def _check(base: float, cap: float, max_attempts: int | None) -> None:
    if not (math.isfinite(base) and math.isfinite(cap) and base > 0 and cap > 0):
        raise ConfigError(f"backoff base and cap must be positive, got {base=} {cap=}")
    if max_attempts is not None and (
        not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1
    ):
        raise ConfigError(f"max_attempts must be >= 1 or None, got {max_attempts}")


def _check_bounds(min_delay: float, max_retry_after: float) -> None:
    if not (math.isfinite(min_delay) and min_delay >= MIN_DELAY):
        raise ConfigError(f"min_delay must be a finite number >= {MIN_DELAY} s, got {min_delay!r}")
    if not (math.isfinite(max_retry_after) and max_retry_after >= min_delay):
        raise ConfigError(
            f"max_retry_after must be finite and >= min_delay, got {max_retry_after!r}"
        )


def _bounded(
    delay: float, retry_after: float | None, min_delay: float, max_retry_after: float
) -> float:
    """``delay`` floored at ``min_delay`` and at the server's Retry-After (itself capped at
    ``max_retry_after``; a negative or non-finite one is ignored)."""
    if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
        delay = max(delay, min(retry_after, max_retry_after))
    return max(delay, min_delay)


def _nominal(base: float, factor: float, cap: float, attempt: int) -> float:
    exponent = max(0, attempt - 1)
    # Past ~64 doublings the float overflows; the cap is long reached by then.
    return cap if exponent > 64 else min(cap, base * factor**exponent)


@dataclass(frozen=True)
class ExponentialBackoff:
    """The product schedule: 1, 2, 4, 8, 16, 30, 30 ... s, plus 0-``jitter`` s added AFTER
    the cap, so capped retries of a whole fleet do not all fire at exactly 30 s.
    A server's Retry-After is a floor on the delay (capped at ``max_retry_after``)."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.5
    max_attempts: int | None = None
    random: Random = field(default=random.random, repr=False, compare=False)
    min_delay: float = MIN_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        _check(self.base, self.cap, self.max_attempts)
        _check_bounds(self.min_delay, self.max_retry_after)
        if not (self.jitter >= 0 and math.isfinite(self.jitter)) or not (
            self.factor >= 1 and math.isfinite(self.factor)
        ):
            raise ConfigError("jitter must be finite and >= 0, factor finite and >= 1")

    def nominal(self, attempt: int) -> float:
        return _nominal(self.base, self.factor, self.cap, attempt)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        delay = self.nominal(attempt) + self.jitter * self.random()
        return _bounded(delay, retry_after, self.min_delay, self.max_retry_after)


@dataclass(frozen=True)
class FullJitterBackoff:
    """AWS-style full jitter: ``U(0, min(cap, base * 2**(attempt-1)))``; best for fleets
    (load tests, many radios) that lose the server at the same moment."""

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int | None = None
    random: Random = field(default=random.random, repr=False, compare=False)
    min_delay: float = MIN_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        _check(self.base, self.cap, self.max_attempts)
        _check_bounds(self.min_delay, self.max_retry_after)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        delay = _nominal(self.base, 2.0, self.cap, attempt) * self.random()
        return _bounded(delay, retry_after, self.min_delay, self.max_retry_after)


@dataclass(frozen=True)
class FleetBackoff:
    """The recommended policy for fleets (load-test bots, a site full of radios, anything
    that loses one server together): full jitter over a SHORT cap,
    ``U(floor, min(cap, base * 2**(attempt-1)))``.

    The herd's retries are spread evenly over at most ``cap`` seconds, so after an outage
    of any length the whole fleet is back within about ``cap`` s of the path returning,
    at about N / ``cap`` handshakes a second; a server that sheds load (503 +
    Retry-After) or announces a restart spreads the rest. A single client keeps
    :class:`ExponentialBackoff`: its predictable 1, 2, 4 ... s reads better in a UI.
    """

    base: float = 0.5
    cap: float = 5.0
    floor: float = 0.1
    max_attempts: int | None = None
    random: Random = field(default=random.random, repr=False, compare=False)
    min_delay: float = MIN_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        _check(self.base, self.cap, self.max_attempts)
        _check_bounds(self.min_delay, self.max_retry_after)
        if not (math.isfinite(self.floor) and 0 <= self.floor <= self.cap):
            raise ConfigError(f"floor must be finite and in [0, cap], got {self.floor!r}")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = max(self.floor, _nominal(self.base, 2.0, self.cap, attempt))
        delay = self.floor + (ceiling - self.floor) * self.random()
        return _bounded(delay, retry_after, self.min_delay, self.max_retry_after)


@dataclass(frozen=True)
class FixedSchedule:
    """Explicit delays (the last one repeats): short injected schedules for tests and demos.

    A delay below ``min_delay`` (e.g. ``FixedSchedule((0,))``) waits ``min_delay``: a
    zero-delay loop against a flapping server would burn a core."""

    delays: tuple[float, ...] = (0.05, 0.1, 0.2)
    max_attempts: int | None = None
    min_delay: float = MIN_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        if not self.delays or any(
            not isinstance(d, (int, float)) or not math.isfinite(d) or d < 0 for d in self.delays
        ):
            raise ConfigError("a schedule needs at least one finite delay >= 0")
        _check(1.0, 1.0, self.max_attempts)
        _check_bounds(self.min_delay, self.max_retry_after)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        delay = self.delays[min(max(attempt, 1), len(self.delays)) - 1]
        return _bounded(delay, retry_after, self.min_delay, self.max_retry_after)


def schedule(policy: BackoffPolicy, attempts: int) -> Iterator[float]:
    """The first ``attempts`` delays of ``policy`` (for printing and tests)."""
    for attempt in range(1, attempts + 1):
        yield policy.delay(attempt)
