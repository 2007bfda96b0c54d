"""What the reference server's codes mean, as protocol-neutral :class:`~fsm.errors.Cause`s.

This is the backend's boundary in the failure table's terms: the machine decides on causes
(:mod:`fsm.classify`), this module says which cause each close code, error code and HTTP
handshake status stands for. The maps are plain data: print them, or copy one and pass it
where a test needs another reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fsm.errors import Cause

from . import protocol

#: WebSocket close codes (RFC 6455 and ours). A bare 1000 is not a goodbye: proxies and
#: load balancers send it when they drop idle or draining connections.
CLOSE_CAUSES: Mapping[int, Cause] = MappingProxyType(
    {
        protocol.CLOSE_NORMAL: Cause.TRANSIENT,
        protocol.CLOSE_GOING_AWAY: Cause.SERVER_GOING_AWAY,
        1002: Cause.PROTOCOL,  # protocol error
        1003: Cause.PROTOCOL,  # unsupported data
        1005: Cause.TRANSIENT,  # no status received
        1006: Cause.TRANSIENT,  # abnormal closure: TCP reset, keepalive timeout
        1007: Cause.PROTOCOL,  # invalid frame payload data
        1008: Cause.POLICY,  # policy violation: the server will refuse us again
        protocol.CLOSE_TOO_BIG: Cause.PROTOCOL,
        1010: Cause.PROTOCOL,  # mandatory extension
        1011: Cause.TRANSIENT,  # internal server error
        1012: Cause.SERVER_GOING_AWAY,  # service restart
        1013: Cause.TRANSIENT,  # try again later
        1015: Cause.TLS,  # TLS handshake failure (reported locally, never on the wire)
        3000: Cause.AUTH_INVALID,  # IANA-registered "unauthorized"
        3003: Cause.FORBIDDEN,  # IANA-registered "forbidden"
        protocol.CLOSE_KICKED: Cause.KICKED,
        protocol.CLOSE_AUTH_EXPIRED: Cause.AUTH_EXPIRED,
        protocol.CLOSE_FORBIDDEN: Cause.FORBIDDEN,
        protocol.CLOSE_CHANNEL_DELETED: Cause.CHANNEL_GONE,
        protocol.CLOSE_RATE_LIMITED: Cause.RATE_LIMITED,
    }
)

#: Error codes in ``ok: false`` responses; any other code is transient.
ERROR_CAUSES: Mapping[str, Cause] = MappingProxyType(
    {
        protocol.E_UNAUTHORIZED: Cause.AUTH_INVALID,
        protocol.E_FORBIDDEN: Cause.FORBIDDEN,
        protocol.E_KICKED: Cause.KICKED,
        protocol.E_CHANNEL_DELETED: Cause.CHANNEL_GONE,
        protocol.E_RATE_LIMITED: Cause.RATE_LIMITED,
    }
)

#: HTTP statuses of a rejected handshake; the status itself also travels in
#: ``LinkError.status`` (the failure table looks it up first).
STATUS_CAUSES: Mapping[int, Cause] = MappingProxyType(
    {
        400: Cause.BAD_REQUEST,
        401: Cause.AUTH_INVALID,
        403: Cause.FORBIDDEN,
        404: Cause.NOT_FOUND,
        429: Cause.RATE_LIMITED,
    }
)


#: A planned restart closes with 1012 and the reason ``retry-after=S``: come back in S
#: seconds (the server spreads S over its fleet). The client turns S into
#: ``LinkError.retry_after``, which the machine waits instead of its backoff.
CLOSE_SERVICE_RESTART = 1012
_HINT = "retry-after="


def restart_reason(seconds: float) -> str:
    """The close reason that tells a client when to come back."""
    return f"{_HINT}{max(0.0, seconds):.1f}"


def restart_hint(reason: str) -> float | None:
    """The seconds in a ``retry-after=S`` close reason, or ``None`` (no or bad hint)."""
    if not reason.startswith(_HINT):
        return None
    try:
        seconds = float(reason[len(_HINT) :].split(maxsplit=1)[0])
    except (ValueError, IndexError):
        return None
    return seconds if 0 <= seconds <= 3600 else None


def close_cause(code: int) -> Cause:
    """The cause of a close code; an unknown one is transient (retrying is the safe bet)."""
    return CLOSE_CAUSES.get(code, Cause.TRANSIENT)


def error_cause(code: str) -> Cause:
    return ERROR_CAUSES.get(code, Cause.TRANSIENT)


def status_cause(status: int) -> Cause:
    return STATUS_CAUSES.get(status, Cause.TRANSIENT)
