"""One small error hierarchy for everything ptt-fsm reports.

Errors say who is at fault: :class:`UsageError` is the caller's misuse (fix your code),
:class:`RemoteError` is the server or the network (the machine decides whether to retry),
:class:`DeviceError` is the local machine's audio or media stack (fix the setup).
Adapters translate their libraries' exceptions into these at the boundary.
"""

from __future__ import annotations

from enum import StrEnum


class PttError(Exception):
    """Base of every error raised or reported by ptt-fsm."""

    #: What the user should do next, shown next to the reason (``ptt connect``'s status line).
    guidance: str = ""

    def __init__(self, message: str = "", *, guidance: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if guidance is not None:
            self.guidance = guidance

    @property
    def reason(self) -> str:
        return str(self)


# --- the caller's fault --------------------------------------------------------------------
class UsageError(PttError):
    """The library was used in a way it does not allow (e.g. talking while disconnected)."""


class IllegalTransition(UsageError):
    """A user intent is not allowed in the current state; the state is unchanged."""

    def __init__(self, event: str, state: str) -> None:
        super().__init__(f"{event!r} is not allowed while {state}")
        self.event = event
        self.state = state


class ConfigError(UsageError):
    """A configuration value is invalid (bad URL, negative delay, unknown policy...)."""

    guidance = "fix the configuration value named in the reason, then connect again"


class InvalidURL(ConfigError):
    """The server URL cannot be used: wrong scheme, no host, bad port, credentials, a
    fragment or a token in it. Raised when the settings are built, never retried."""

    guidance = (
        "give the server URL as ws://host[:port]/path or wss://host[:port]/path, without "
        "user:password@, #fragment or a token in the query (pass the token separately)"
    )


class InvalidOption(ConfigError):
    """A numeric or typed option is out of range (``option`` names it)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


# --- the server's or network's fault -------------------------------------------------------
class RemoteError(PttError):
    """Something outside this process failed; the failure table classifies its cause."""


class Cause(StrEnum):
    """Why a remote failure happened, in protocol-neutral terms.

    Each backend maps its own close codes and error codes to one of these at its boundary;
    the failure table (:mod:`fsm.classify`) decides on causes, never on codes."""

    AUTH_EXPIRED = "auth_expired"  # our token expired: refresh it once
    AUTH_INVALID = "auth_invalid"  # our token was rejected: refresh it once
    FORBIDDEN = "forbidden"  # the token is valid but does not grant this channel
    KICKED = "kicked"  # a moderator removed us: a final goodbye
    CHANNEL_GONE = "channel_gone"  # the channel was deleted: a final goodbye
    RATE_LIMITED = "rate_limited"  # too fast: wait at least ``retry_after``
    SERVER_GOING_AWAY = "server_going_away"  # shutdown or restart: come back later
    TRANSIENT = "transient"  # the network or the server hiccupped: retry
    PROTOCOL = "protocol"  # the peer broke the protocol
    POLICY = "policy"  # the server refused us by policy (not our token): do not retry
    TLS = "tls"  # the TLS handshake failed (certificate not trusted, wrong host...)
    BAD_REQUEST = "invalid_request"  # the server rejected our request as malformed (config)
    NOT_FOUND = "no_endpoint"  # nothing at this URL (wrong path or host): config


class LinkError(RemoteError):
    """The signaling link could not be opened or was lost.

    Carries what the failure table needs: the protocol-neutral ``cause``, the HTTP
    ``status`` of a rejected handshake and a server's ``retry_after`` in seconds. ``code``
    is the backend's own code (a close code, an error number), kept only for diagnostics:
    the machine never reads it.
    """

    default_message = ""

    def __init__(
        self,
        message: str = "",
        *,
        cause: Cause = Cause.TRANSIENT,
        status: int | None = None,
        retry_after: float | None = None,
        code: int | str | None = None,
        guidance: str | None = None,
    ) -> None:
        super().__init__(
            message or self.default_message or _describe(status, code, cause), guidance=guidance
        )
        self.cause = cause
        self.status = status
        self.retry_after = retry_after
        self.code = code


class ConnectRefused(LinkError):
    """Nothing accepted the TCP connection."""

    default_message = "connection refused"


class ConnectTimeout(LinkError):
    """The connect attempt (TCP, TLS, or the WebSocket handshake) took too long."""

    default_message = "connect timed out"


class KeepaliveTimeout(LinkError):
    """The server stopped answering pings: the link is silently dead."""

    default_message = "keepalive timed out: the server stopped answering"


class OperationTimeout(RemoteError):
    """A request or a session step got no answer in time (the watchdog fired)."""


class RequestFailed(RemoteError):
    """The server refused an operation (``join``, ``request_floor``...) for ``cause``.

    ``code`` is the backend's own error code, for diagnostics only."""

    def __init__(
        self,
        operation: str,
        cause: Cause = Cause.TRANSIENT,
        message: str = "",
        *,
        code: int | str | None = None,
        retry_after: float | None = None,
    ) -> None:
        label = code if code is not None else cause.value
        super().__init__(f"{operation} failed: {label}" + (f" ({message})" if message else ""))
        self.operation = operation
        self.cause = cause
        self.code = code
        self.retry_after = retry_after


class ProtocolViolation(RemoteError):
    """The server sent something the protocol does not allow: retried a few times (the
    failure table's ``max_protocol_retries``), then an ``error``."""

    cause = Cause.PROTOCOL


class AuthError(RemoteError):
    """The server rejected our credentials; never retried with the same token."""

    guidance = "log in again to get a new token"


class TransportError(RemoteError):
    """A WebRTC transport could not be created, or its media path died."""


class MediaTimeout(TransportError):
    """Audio was expected but none arrived or was acknowledged in time."""


# --- the local machine's fault -------------------------------------------------------------
class DeviceError(PttError):
    """An audio device is missing or cannot be opened."""

    guidance = (
        "check that a microphone is connected and that this process may open it "
        "(list devices with `python -m sounddevice`, pick one with --source device:NAME)"
    )


def _describe(status: int | None, code: int | str | None, cause: Cause) -> str:
    if status is not None:
        return f"handshake rejected with HTTP {status}"
    if code is not None:
        return f"link closed ({cause.value}, code {code})"
    return f"link failed ({cause.value})"
