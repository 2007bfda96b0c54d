"""Validated configuration of one connection (secrets kept out of ``repr``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from .backoff import BackoffPolicy, ExponentialBackoff
from .classify import DEFAULT_TABLE, FailureTable
from .errors import ConfigError

_SECRET_PARAMS = frozenset({"token", "access_token", "jwt", "auth", "authorization"})


@dataclass(frozen=True)
class Settings:
    """Everything the machine needs to know besides its ports.

    ``token`` never appears in ``repr``, logs or URLs: adapters send it in the
    ``Authorization`` header. Timeouts are the per-state watchdogs: nothing waits longer.
    """

    url: str
    channel: str
    token: str = field(default="", repr=False)
    backoff: BackoffPolicy = field(default_factory=ExponentialBackoff)
    failures: FailureTable = DEFAULT_TABLE
    #: The attempt counter resets only after a restored session stayed up this long.
    stable_after: float = 10.0
    connect_timeout: float = 10.0
    step_timeout: float = 10.0
    auth_timeout: float = 10.0
    outbox_capacity: int = 100
    ptt_stale_after: float = 2.0
    #: The outbox is released in batches (``flush_batch`` messages every ``flush_interval``
    #: seconds) so a full queue does not trip the server's rate limit after an outage.
    flush_batch: int = 20
    flush_interval: float = 0.5

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ConfigError(f"server URL must be ws:// or wss:// with a host, got {self.url!r}")
        if _SECRET_PARAMS & {k.lower() for k in parse_qs(parts.query)}:
            raise ConfigError("put the token in Settings.token, never in the URL")
        if not self.channel or len(self.channel) > 128:
            raise ConfigError("channel must be a non-empty name of at most 128 characters")
        for name in ("stable_after", "connect_timeout", "step_timeout", "auth_timeout"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.outbox_capacity < 1 or self.ptt_stale_after < 0:
            raise ConfigError("outbox_capacity must be >= 1 and ptt_stale_after >= 0")
        if self.flush_batch < 1 or not self.flush_interval > 0:
            raise ConfigError("flush_batch must be >= 1 and flush_interval > 0")
