"""Reconnect delay policies: pure objects, randomness injected.

The machine asks ``policy.delay(attempt, retry_after)`` when it enters the backoff wait;
only the clock adapter actually waits. Attempts count from 1.
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


@runtime_checkable
class BackoffPolicy(Protocol):
    """How long to wait before reconnect attempt ``attempt`` (1-based)."""

    @property
    def max_attempts(self) -> int | None:
        """``None``: try forever; otherwise the machine gives up after this many attempts."""

    def delay(self, attempt: int, retry_after: float | None = None) -> float: ...


def _check(base: float, cap: float, max_attempts: int | None) -> None:
    if base <= 0 or cap <= 0 or not math.isfinite(base) or not math.isfinite(cap):
        raise ConfigError(f"backoff base and cap must be positive, got {base=} {cap=}")
    if max_attempts is not None and max_attempts < 1:
        raise ConfigError(f"max_attempts must be >= 1 or None, got {max_attempts}")


def _nominal(base: float, factor: float, cap: float, attempt: int) -> float:
    exponent = max(0, attempt - 1)
    # Past ~64 doublings the float overflows; the cap is long reached by then.
    return cap if exponent > 64 else min(cap, base * factor**exponent)


@dataclass(frozen=True)
class ExponentialBackoff:
    """The product schedule: 1, 2, 4, 8, 16, 30, 30 ... s, plus 0-``jitter`` s added AFTER
    the cap, so capped retries of a whole fleet do not all fire at exactly 30 s.
    A server's Retry-After is a floor on the delay."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.5
    max_attempts: int | None = None
    random: Random = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self.base, self.cap, self.max_attempts)
        if self.jitter < 0 or self.factor < 1:
            raise ConfigError("jitter must be >= 0 and factor >= 1")

    def nominal(self, attempt: int) -> float:
        return _nominal(self.base, self.factor, self.cap, attempt)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        delay = self.nominal(attempt) + self.jitter * self.random()
        return max(delay, retry_after) if retry_after is not None else delay


@dataclass(frozen=True)
class FullJitterBackoff:
    """AWS-style full jitter: ``U(0, min(cap, base * 2**(attempt-1)))``; best for fleets
    (load tests, many radios) that lose the server at the same moment."""

    base: float = 1.0
    cap: float = 30.0
    max_attempts: int | None = None
    random: Random = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check(self.base, self.cap, self.max_attempts)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        delay = _nominal(self.base, 2.0, self.cap, attempt) * self.random()
        return max(delay, retry_after) if retry_after is not None else delay


@dataclass(frozen=True)
class FixedSchedule:
    """Explicit delays (the last one repeats): short injected schedules for tests and demos."""

    delays: tuple[float, ...] = (0.05, 0.1, 0.2)
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 or not math.isfinite(d) for d in self.delays):
            raise ConfigError("a schedule needs at least one finite delay >= 0")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ConfigError("max_attempts must be >= 1 or None")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        delay = self.delays[min(max(attempt, 1), len(self.delays)) - 1]
        return max(delay, retry_after) if retry_after is not None else delay


def schedule(policy: BackoffPolicy, attempts: int) -> Iterator[float]:
    """The first ``attempts`` delays of ``policy`` (for printing and tests)."""
    for attempt in range(1, attempts + 1):
        yield policy.delay(attempt)
