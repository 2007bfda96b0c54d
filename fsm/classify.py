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
V = TypeVar("V")


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
    Cause.PROTOCOL: Verdict.RETRY,  # a few times: see ``FailureTable.max_protocol_retries``
    Cause.POLICY: Verdict.FATAL,
    Cause.TLS: Verdict.FATAL,
    Cause.BAD_REQUEST: Verdict.FATAL,
    Cause.NOT_FOUND: Verdict.FATAL,
}

_STATUSES: dict[int, Verdict] = {
    400: Verdict.FATAL,  # the server cannot parse our handshake: fix the URL/configuration
    401: Verdict.FATAL,
    403: Verdict.FATAL,
    404: Verdict.FATAL,  # nothing at this path: the URL is wrong
    429: Verdict.RETRY_AFTER,
    503: Verdict.RETRY_AFTER,
}


#: What the user should do when a failure of this cause ends in ``error``.
_GUIDANCE: dict[Cause, str] = {
    Cause.AUTH_EXPIRED: "log in again to get a new token",
    Cause.AUTH_INVALID: "log in again to get a new token",
    Cause.FORBIDDEN: "this token does not grant access to the channel; ask for access",
    Cause.POLICY: (
        "the server refused this client by policy; ask the server's operator why "
        "(retrying will not help)"
    ),
    Cause.TLS: (
        "the server's TLS certificate is not trusted (self-signed, expired or for another "
        "host): install its CA certificate or fix the server's certificate, then connect again"
    ),
    Cause.BAD_REQUEST: (
        "the server rejected the connection request as malformed: check the server URL "
        "(scheme, host, port, path), then connect again"
    ),
    Cause.NOT_FOUND: (
        "nothing answers at this URL path: check the server URL (e.g. wss://host/ptt), "
        "then connect again"
    ),
    Cause.PROTOCOL: (
        "the server keeps breaking the protocol: this client and the server do not speak "
        "the same version; update one of them or report it to the server's operator"
    ),
}

#: The cause a rejected handshake's HTTP status stands for, for the guidance.
_STATUS_GUIDANCE: dict[int, Cause] = {
    400: Cause.BAD_REQUEST,
    401: Cause.AUTH_INVALID,
    403: Cause.FORBIDDEN,
    404: Cause.NOT_FOUND,
}


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
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
    #: Consecutive protocol failures (close 1002/1003/1007/1010, a malformed answer) that
    #: are retried; the next one is an ``error``: the same bytes would fail again.
    max_protocol_retries: int = 3
    guidance: Mapping[Cause, str] = field(default_factory=lambda: _frozen(_GUIDANCE))

    def __post_init__(self) -> None:
        n = self.max_protocol_retries
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ConfigError(f"max_protocol_retries must be an int >= 0, got {n!r}")

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

    def is_protocol_failure(self, error: BaseException | None) -> bool:
        """True when the peer broke the protocol (counted against ``max_protocol_retries``)."""
        if isinstance(error, LinkError) and error.status is not None:
            return False
        return getattr(error, "cause", None) is Cause.PROTOCOL

    def protocol_exhausted(self, error: BaseException | None, previous: int) -> bool:
        """``error`` is a protocol failure after ``previous`` consecutive ones already
        retried, and no retry is left: the machine goes to ``error``."""
        return self.is_protocol_failure(error) and previous >= self.max_protocol_retries

    def guidance_for(self, error: BaseException | None) -> str:
        """What to do about ``error`` once it ended in ``error`` ("" when nothing specific)."""
        cause: Cause | None = None
        if isinstance(error, LinkError) and error.status is not None:
            cause = _STATUS_GUIDANCE.get(error.status)
        if cause is None:
            found = getattr(error, "cause", None)
            cause = found if isinstance(found, Cause) else None
        if cause is None and self.is_auth_failure(error):
            cause = Cause.AUTH_INVALID
        return self.guidance.get(cause, "") if cause is not None else ""

    def rows(self) -> list[tuple[str, str, Verdict]]:
        """The table as printable rows: (kind, key, verdict)."""
        out: list[tuple[str, str, Verdict]] = []
        out += [("cause", k.value, v) for k, v in self.causes.items()]
        out += [("http status", str(k), v) for k, v in sorted(self.statuses.items())]
        out += [("http status", "with Retry-After", Verdict.RETRY_AFTER)]
        out += [("anything else", "*", self.default)]
        return out


DEFAULT_TABLE = FailureTable()
