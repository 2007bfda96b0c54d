"""Per-connection request rate limit: a token bucket plus a tally of refused requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class Admission(Enum):
    ACCEPT = "accept"
    REFUSE = "refuse"  # answer ``rate_limited`` and carry on
    DISCONNECT = "disconnect"  # sustained abuse: close with CLOSE_RATE_LIMITED


class RateLimiter:
    """Admit ``rate`` requests a second with bursts up to ``burst``.

    Every refusal adds a strike and strikes drain at one a second, so a client that
    overshoots briefly gets ``rate_limited`` answers while one that keeps flooding crosses
    ``max_strikes`` and is disconnected.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        max_strikes: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._burst = burst if burst is not None else rate
        self._max_strikes = max_strikes if max_strikes is not None else rate
        self._clock = clock
        self._tokens = self._burst
        self._strikes = 0.0
        self._last = clock()

    def admit(self) -> Admission:
        now = self._clock()
        elapsed, self._last = max(0.0, now - self._last), now
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._strikes = max(0.0, self._strikes - elapsed)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return Admission.ACCEPT
        self._strikes += 1.0
        return Admission.DISCONNECT if self._strikes > self._max_strikes else Admission.REFUSE
