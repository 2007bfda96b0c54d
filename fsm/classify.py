"""What a failure means for the connection: fatal, final, retry, or retry after a delay.

The machine's guards ask :meth:`FailureTable.verdict`; nothing else decides whether to
reconnect. The table is plain data so users can read it, print it and override rows
(``DEFAULT_TABLE.with_overrides(causes={Cause.FORBIDDEN: Verdict.FINAL})``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from .errors import (
    AuthError,
    Cause,
    ConfigError,
    DeviceError,
    LinkError,
    PttError,
    RequestFailed,
    UsageError,
)

K = TypeVar("K")


class Verdict(StrEnum):
    FATAL = "fatal"  # go to `error`, never retry (after at most one token refresh for auth)
    FINAL = "final"  # the server said a final goodbye: go to `disconnected`, never retry
    RETRY = "retry"  # reconnect with backoff
    RETRY_AFTER = "retry-after"  # reconnect, waiting at least the server's Retry-After


_CAUSES: dict[Cause, Verdict] = {
    Cause.AUTH_EXPIRED: Verdict.FATAL,  # after at most one token refresh
    Cause.AUTH_INVALID: Verdict.FATAL,  # after at most one token refresh
    Cause.FORBIDDEN: Verdict.FATAL,
    Cause.KICKED: Verdict.FINAL,
    Cause.CHANNEL_GONE: Verdict.FINAL,
    Cause.RATE_LIMITED: Verdict.RETRY_AFTER,
    Cause.SERVER_GOING_AWAY: Verdict.RETRY,
    Cause.TRANSIENT: Verdict.RETRY,
    Cause.PROTOCOL: Verdict.RETRY,
}

_STATUSES: dict[int, Verdict] = {
    401: Verdict.FATAL,
    403: Verdict.FATAL,
    429: Verdict.RETRY_AFTER,
    503: Verdict.RETRY_AFTER,
}


def _frozen(mapping: Mapping[K, Verdict]) -> Mapping[K, Verdict]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class FailureTable:
    """Causes and HTTP handshake statuses mapped to a :class:`Verdict`.

    Backends map their own close codes and error codes to a :class:`~fsm.errors.Cause`;
    this table decides on causes. A handshake status, when there is one, is looked up
    first. Anything not in the table is ``default`` (retry): on a flaky network anything
    unknown is more likely a transient fault than a reason to give up.
    """

    causes: Mapping[Cause, Verdict] = field(default_factory=lambda: _frozen(_CAUSES))
    statuses: Mapping[int, Verdict] = field(default_factory=lambda: _frozen(_STATUSES))
    auth_causes: frozenset[Cause] = frozenset({Cause.AUTH_EXPIRED, Cause.AUTH_INVALID})
    auth_statuses: frozenset[int] = frozenset({401})
    default: Verdict = Verdict.RETRY

    def with_overrides(
        self,
        *,
        causes: Mapping[Cause, Verdict] | None = None,
        statuses: Mapping[int, Verdict] | None = None,
    ) -> FailureTable:
        """Return a copy with some rows replaced or added."""
        return replace(
            self,
            causes=MappingProxyType({**self.causes, **(causes or {})}),
            statuses=MappingProxyType({**self.statuses, **(statuses or {})}),
        )

    def verdict(self, error: BaseException | None) -> Verdict:
        """Classify ``error``; ``None`` (no error given) counts as a retryable fault."""
        if error is None:
            return self.default
        if isinstance(error, LinkError) and error.status is not None:
            found = self.statuses.get(error.status)
            if found is not None:
                return found
            if error.retry_after is not None:
                return Verdict.RETRY_AFTER
            return self.default
        cause = getattr(error, "cause", None)
        if isinstance(error, (LinkError, RequestFailed)) and isinstance(cause, Cause):
            return self.causes.get(cause, self.default)
        if isinstance(error, (AuthError, DeviceError, ConfigError, UsageError)):
            return Verdict.FATAL
        if isinstance(error, PttError):
            return self.default
        return Verdict.FATAL  # a bug in an adapter or callback: retrying would loop on it

    def is_auth_failure(self, error: BaseException | None) -> bool:
        """True when the server says our token is no good (worth one refresh)."""
        if isinstance(error, AuthError):
            return True
        if isinstance(error, LinkError) and error.status is not None:
            return error.status in self.auth_statuses
        if isinstance(error, (LinkError, RequestFailed)):
            return error.cause in self.auth_causes
        return False

    def rows(self) -> list[tuple[str, str, Verdict]]:
        """The table as printable rows: (kind, key, verdict)."""
        out: list[tuple[str, str, Verdict]] = []
        out += [("cause", k.value, v) for k, v in self.causes.items()]
        out += [("http status", str(k), v) for k, v in sorted(self.statuses.items())]
        out += [("http status", "with Retry-After", Verdict.RETRY_AFTER)]
        out += [("anything else", "*", self.default)]
        return out


DEFAULT_TABLE = FailureTable()
