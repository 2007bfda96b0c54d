"""Janus error codes as protocol-neutral causes: the one place a Janus number means something.

Core API codes (``janus.h``) and AudioBridge codes (``janus_audiobridge.c``) share one
number space, so one table serves both. A code missing here is :attr:`Cause.TRANSIENT`:
on a flaky path an unknown failure is more likely a hiccup than a reason to give up.
"""

from __future__ import annotations

from types import MappingProxyType

from fsm.errors import Cause, LinkError, RequestFailed

NO_SUCH_SESSION = 458  # restarted, or the session expired: a new session is needed
NO_SUCH_HANDLE = 459
UNAUTHORIZED = 403  # token_auth: a missing or unknown token (never an HTTP 401)
NO_SUCH_ROOM = 485
NOT_JOINED = 487
ALREADY_JOINED = 491

CAUSES = MappingProxyType(
    {
        UNAUTHORIZED: Cause.AUTH_INVALID,
        405: Cause.FORBIDDEN,  # the token does not grant the AudioBridge plugin
        NO_SUCH_SESSION: Cause.TRANSIENT,
        NO_SUCH_HANDLE: Cause.TRANSIENT,
        472: Cause.SERVER_GOING_AWAY,  # not accepting new sessions (draining)
        490: Cause.PROTOCOL,  # transport-specific error
        NO_SUCH_ROOM: Cause.CHANNEL_GONE,
        NOT_JOINED: Cause.TRANSIENT,
        489: Cause.FORBIDDEN,  # the room wants a pin or secret we do not have
        ALREADY_JOINED: Cause.PROTOCOL,
        492: Cause.TRANSIENT,  # no such user: we were removed meanwhile
    }
)


class JanusError(Exception):
    """An ``error`` answer, or a plugin event carrying ``error_code`` (internal only:
    :func:`request_failed` and :func:`link_error` turn it into the library's errors)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"janus error {code}: {reason}")
        self.code = code
        self.reason = reason


def cause_of(code: int) -> Cause:
    return CAUSES.get(code, Cause.TRANSIENT)


def request_failed(operation: str, error: JanusError) -> RequestFailed:
    failed = RequestFailed(operation, cause_of(error.code), error.reason[:200], code=error.code)
    failed.__cause__ = error
    return failed


def link_error(operation: str, error: JanusError) -> LinkError:
    failed = LinkError(
        f"{operation} failed: janus {error.code} ({error.reason[:200]})",
        cause=cause_of(error.code),
        code=error.code,
    )
    failed.__cause__ = error
    return failed
