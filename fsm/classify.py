"""What a failure means for the connection: fatal, final, retry, or retry after a delay.

The machine's guards ask :meth:`FailureTable.verdict`; nothing else decides whether to
reconnect. The table is plain data so users can read it, print it and override rows
(``DEFAULT_TABLE.with_overrides(close_codes={4100: Verdict.FINAL})``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from .errors import (
    AuthError,
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


#: Application close codes of the reference server (and a sensible convention for others).
CLOSE_KICKED = 4000
CLOSE_AUTH_EXPIRED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_CHANNEL_DELETED = 4004
CLOSE_RATE_LIMITED = 4029

_CLOSE_CODES: dict[int, Verdict] = {
    1000: Verdict.RETRY,  # a bare normal closure is not an explicit goodbye (proxies send it)
    1001: Verdict.RETRY,  # going away: server shutdown or restart
    1005: Verdict.RETRY,  # no status received
    1006: Verdict.RETRY,  # abnormal closure: TCP reset, keepalive timeout
    1011: Verdict.RETRY,  # internal server error
    1012: Verdict.RETRY,  # service restart
    1013: Verdict.RETRY,  # try again later
    CLOSE_KICKED: Verdict.FINAL,
    CLOSE_CHANNEL_DELETED: Verdict.FINAL,
    CLOSE_AUTH_EXPIRED: Verdict.FATAL,
    CLOSE_FORBIDDEN: Verdict.FATAL,
    CLOSE_RATE_LIMITED: Verdict.RETRY_AFTER,
}

_STATUSES: dict[int, Verdict] = {
    401: Verdict.FATAL,
    403: Verdict.FATAL,
    429: Verdict.RETRY_AFTER,
    503: Verdict.RETRY_AFTER,
}

_REQUEST_CODES: dict[str, Verdict] = {
    "unauthorized": Verdict.FATAL,
    "forbidden": Verdict.FATAL,
    "kicked": Verdict.FINAL,
    "channel_deleted": Verdict.FINAL,
}


def _frozen(mapping: Mapping[K, Verdict]) -> Mapping[K, Verdict]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class FailureTable:
    """Close codes, HTTP statuses and request error codes mapped to a :class:`Verdict`.

    Rows not in the table default to ``default`` (retry): on a flaky network anything
    unknown is more likely a transient fault than a reason to give up.
    """

    close_codes: Mapping[int, Verdict] = field(default_factory=lambda: _frozen(_CLOSE_CODES))
    statuses: Mapping[int, Verdict] = field(default_factory=lambda: _frozen(_STATUSES))
    request_codes: Mapping[str, Verdict] = field(default_factory=lambda: _frozen(_REQUEST_CODES))
    auth_statuses: frozenset[int] = frozenset({401})
    auth_close_codes: frozenset[int] = frozenset({CLOSE_AUTH_EXPIRED})
    default: Verdict = Verdict.RETRY

    def with_overrides(
        self,
        *,
        close_codes: Mapping[int, Verdict] | None = None,
        statuses: Mapping[int, Verdict] | None = None,
        request_codes: Mapping[str, Verdict] | None = None,
    ) -> FailureTable:
        """Return a copy with some rows replaced or added."""
        return replace(
            self,
            close_codes=MappingProxyType({**self.close_codes, **(close_codes or {})}),
            statuses=MappingProxyType({**self.statuses, **(statuses or {})}),
            request_codes=MappingProxyType({**self.request_codes, **(request_codes or {})}),
        )

    def verdict(self, error: BaseException | None) -> Verdict:
        """Classify ``error``; ``None`` (no error given) counts as a retryable fault."""
        if error is None:
            return self.default
        if isinstance(error, LinkError):
            if error.status is not None:
                found = self.statuses.get(error.status)
                if found is not None:
                    return found
                if 500 <= error.status <= 599 or error.retry_after is not None:
                    return Verdict.RETRY_AFTER if error.retry_after is not None else Verdict.RETRY
                return self.default
            if error.close_code is not None:
                return self.close_codes.get(error.close_code, self.default)
            return self.default
        if isinstance(error, RequestFailed):
            return self.request_codes.get(error.code, self.default)
        if isinstance(error, (AuthError, DeviceError, ConfigError, UsageError)):
            return Verdict.FATAL
        if isinstance(error, PttError):
            return self.default
        return Verdict.FATAL  # a bug in an adapter or callback: retrying would loop on it

    def is_auth_failure(self, error: BaseException | None) -> bool:
        """True for a 401 at the handshake or the auth close code mid-session."""
        if isinstance(error, AuthError):
            return True
        if isinstance(error, LinkError):
            return (error.status in self.auth_statuses) or (
                error.close_code in self.auth_close_codes
            )
        return isinstance(error, RequestFailed) and error.code == "unauthorized"

    def rows(self) -> list[tuple[str, str, Verdict]]:
        """The table as printable rows: (kind, key, verdict)."""
        out: list[tuple[str, str, Verdict]] = []
        out += [("close code", str(k), v) for k, v in sorted(self.close_codes.items())]
        out += [("http status", str(k), v) for k, v in sorted(self.statuses.items())]
        out += [("http status", "other 5xx", Verdict.RETRY)]
        out += [("request error", k, v) for k, v in sorted(self.request_codes.items())]
        out += [("anything else", "*", self.default)]
        return out


DEFAULT_TABLE = FailureTable()
