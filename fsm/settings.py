"""Validated configuration of one connection (secrets kept out of ``repr``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from .backoff import BackoffPolicy, ExponentialBackoff
from .classify import DEFAULT_TABLE, FailureTable
from .errors import InvalidOption, InvalidURL

_SECRET_PARAMS = frozenset(
    {"token", "access_token", "jwt", "auth", "authorization", "bearer", "id_token", "apikey"}
)


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
    #: The network watcher starts an attempt (or a probe) at most this often.
    network_hint_interval: float = 1.0
    #: A probe after a network change gives the server this long to answer.
    probe_timeout: float = 1.0

    def __post_init__(self) -> None:
        check_url(self.url)
        if not isinstance(self.channel, str) or not self.channel or len(self.channel) > 128:
            raise InvalidOption(
                "channel", "channel must be a non-empty name of at most 128 characters"
            )
        if not isinstance(self.token, str):
            raise InvalidOption("token", "token must be a string")
        if not isinstance(self.backoff, BackoffPolicy):
            raise InvalidOption("backoff", f"backoff must be a BackoffPolicy, got {self.backoff!r}")
        if not isinstance(self.failures, FailureTable):
            raise InvalidOption("failures", "failures must be a fsm.classify.FailureTable")
        for name in (
            "stable_after",
            "connect_timeout",
            "step_timeout",
            "auth_timeout",
            "network_hint_interval",
            "probe_timeout",
        ):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value) and value > 0):
                raise InvalidOption(
                    name, f"{name} must be a positive number of seconds, got {value!r}"
                )
        for name in ("outbox_capacity", "flush_batch"):
            value = getattr(self, name)
            if not (_is_int(value) and 1 <= value <= 1_000_000):
                raise InvalidOption(name, f"{name} must be an integer >= 1, got {value!r}")
        value = self.ptt_stale_after
        if not (_is_number(value) and math.isfinite(value) and value >= 0):
            raise InvalidOption(
                "ptt_stale_after", f"ptt_stale_after must be a finite number >= 0, got {value!r}"
            )
        value = self.flush_interval
        if not (_is_number(value) and math.isfinite(value) and value > 0):
            raise InvalidOption(
                "flush_interval", f"flush_interval must be a positive number, got {value!r}"
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_url(url: object) -> None:
    """Raise :class:`~fsm.errors.InvalidURL` unless ``url`` is a usable server URL:
    ws/wss, a host, a port in 1-65535, no credentials, no fragment, no token in the query."""
    if not isinstance(url, str) or not url:
        raise InvalidURL(f"server URL must be a non-empty string, got {url!r}")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise InvalidURL("server URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535"...
        raise InvalidURL(f"server URL cannot be parsed ({exc}): {_shown(url)}") from None
    if parts.scheme.lower() not in ("ws", "wss"):
        raise InvalidURL(f"server URL must start with ws:// or wss://, got {_shown(url)}")
    if "@" in parts.netloc:
        # Never echo the URL: it holds a password. Credentials in a URL would be sent to
        # the server (and logged by proxies); the token goes in its own setting.
        raise InvalidURL("server URL must not contain user:password@; pass the token instead")
    if not host:
        raise InvalidURL(f"server URL has no host: {_shown(url)}")
    if port is not None and not 1 <= port <= 65535:
        raise InvalidURL(f"server URL port must be 1-65535, got {port}")
    if parts.fragment or "#" in url:
        raise InvalidURL(f"server URL must not have a #fragment: {_shown(url)}")
    if _SECRET_PARAMS & {k.lower() for k in parse_qs(parts.query, keep_blank_values=True)}:
        raise InvalidURL("put the token in Settings.token, never in the URL")


def _shown(url: str) -> str:
    """The URL for an error message, without its query (which may hold secrets)."""
    return repr(url.split("?", 1)[0][:200])
