"""One small error hierarchy for everything ptt-fsm reports.

Errors say who is at fault: :class:`UsageError` is the caller's misuse (fix your code),
:class:`RemoteError` is the server or the network (the machine decides whether to retry),
:class:`DeviceError` is the local machine's audio or media stack (fix the setup).
Adapters translate their libraries' exceptions into these at the boundary.
"""

from __future__ import annotations


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


# --- the server's or network's fault -------------------------------------------------------
class RemoteError(PttError):
    """Something outside this process failed; the close-code table classifies it."""


class LinkError(RemoteError):
    """The signaling link could not be opened or was lost.

    Carries exactly what the classification guards need: the HTTP ``status`` of a rejected
    handshake, the WebSocket ``close_code`` and ``close_reason`` of a closed link, and a
    server's ``retry_after`` in seconds.
    """

    default_message = ""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        close_code: int | None = None,
        close_reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message or self.default_message or _describe(status, close_code, close_reason)
        )
        self.status = status
        self.close_code = close_code
        self.close_reason = close_reason
        self.retry_after = retry_after


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
    """The server answered a request with an error ``code``."""

    def __init__(self, method: str, code: str, message: str = "") -> None:
        super().__init__(f"{method} failed: {code}" + (f" ({message})" if message else ""))
        self.method = method
        self.code = code


class ProtocolViolation(RemoteError):
    """The server sent something the protocol does not allow (treated as a retryable fault)."""


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


def _describe(status: int | None, close_code: int | None, reason: str) -> str:
    if status is not None:
        return f"handshake rejected with HTTP {status}"
    if close_code is not None:
        return f"link closed with code {close_code}" + (f" ({reason})" if reason else "")
    return "link failed"
