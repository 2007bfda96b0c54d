"""What became of one user message: delivered, or dropped for a stated cause.

The pure core cannot hand out awaitables, so each message's outbox entry carries a plain
callback (``Outgoing.notify``); the machine calls it exactly once with a
:class:`MessageOutcome` (``ConnectionManager.send_message`` turns it into an awaitable
``Delivery``). Every drop is also counted in ``Outbox.dropped`` under its cause.

Delivery is at least once on the wire (a copy the server may have seen is sent again) and
exactly once to the channel when the server drops duplicates by ``msg_id``; but never
"forever": a message the server rejects, chokes on, or never confirms is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import ConfigError, PttError, UsageError


class DropCause(StrEnum):
    """Why an outbox entry was dropped: the keys of ``Outbox.dropped``."""

    OVERFLOW = "overflow"  # the outbox was full while offline: the oldest entry went
    STALE = "stale"  # a queued talk start/stop older than ``ptt_stale_after``
    ORPHAN_STOP = "orphan_stop"  # a queued talk stop whose start was dropped
    DISCARDED = "discarded"  # disconnect() before the server confirmed it
    REJECTED = "rejected"  # the server refused it (any error but rate_limited)
    POISON = "poison"  # the server closed the link over it (a protocol or too-big close)
    UNDELIVERABLE = "undeliverable"  # never confirmed: resent or requeued too often
    TOO_LARGE = "too_large"  # refused at send_message: encoded above the size limit
    INVALID = "invalid"  # refused at send_message: not a JSON object


@dataclass(frozen=True)
class MessageOutcome:
    """The fate of message ``msg_id``: delivered (``cause`` is None) or dropped."""

    msg_id: str
    cause: DropCause | None = None
    #: The failure behind a drop (the server's refusal, the close, the last timeout).
    error: PttError | None = None

    @property
    def delivered(self) -> bool:
        return self.cause is None


Notify = Callable[[MessageOutcome], None]


@dataclass(frozen=True)
class DeliveryPolicy:
    """How big a message may be and how hard the machine tries to deliver it.

    ``max_bytes``: the JSON-encoded size limit (the reference server closes the link on a
    frame above 64 KiB; 60 KiB leaves room for the envelope). A backend may declare a
    smaller one (``Features.max_message_bytes``). ``max_resends``: copies sent
    again after no answer on an open link (a request timeout) before the message is dropped
    as undeliverable. ``max_outages``: link losses a message may be in flight at (each
    followed by a resend after the restore) before it is dropped as undeliverable.
    """

    max_bytes: int = 60 * 1024
    max_resends: int = 1
    max_outages: int = 3

    def __post_init__(self) -> None:
        if self.max_bytes < 2 or self.max_resends < 0 or self.max_outages < 0:
            raise ConfigError("max_bytes must be >= 2, max_resends and max_outages >= 0")


class InvalidMessage(UsageError):
    """``send_message`` refused ``data``: not a JSON object (see ``cause``); nothing sent."""

    cause = DropCause.INVALID
    guidance = "send a dict of JSON values (str, int, finite float, bool, None, list, dict)"


class MessageTooLarge(InvalidMessage):
    """``send_message`` refused ``data``: ``size`` encoded bytes above ``limit``."""

    cause = DropCause.TOO_LARGE
    guidance = "send less per message (split it, or send a reference to the content)"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message is {size} bytes encoded, above the {limit}-byte limit")
        self.size = size
        self.limit = limit


def checked(data: object, limit: int) -> tuple[dict[str, Any], int]:
    """A snapshot of ``data`` as the JSON object that will be sent, and its encoded size.

    Raises :class:`InvalidMessage` (not an object, not JSON: a ``datetime``, a ``set``,
    ``bytes``, NaN, a cycle) or :class:`MessageTooLarge`. The snapshot holds no container
    of the caller's, so later changes to the caller's dict do not change what is sent."""
    if not isinstance(data, Mapping):
        raise InvalidMessage(f"a message must be a JSON object (a dict), not {type(data).__name__}")
    body = dict(data)
    try:
        encoded = _FAST.encode(body)
        if "NaN" in encoded or "Infinity" in encoded:  # maybe a bare NaN: ask strictly
            _STRICT.encode(body)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidMessage(f"message data is not JSON: {exc}") from exc
    size = len(encoded)  # ensure_ascii: characters are bytes
    if size > limit:
        raise MessageTooLarge(size, limit)
    if not all(isinstance(v, _SCALARS) for v in body.values()):
        body = json.loads(encoded)  # a deep copy: nested lists and dicts are ours
    return body, size


# ``json.dumps(..., allow_nan=False)`` builds an encoder per call: five times slower.
_FAST = json.JSONEncoder()
_STRICT = json.JSONEncoder(allow_nan=False)
_SCALARS = (str, int, float, bool, type(None))


def effective_limit(policy: DeliveryPolicy, declared: object) -> int:
    """The policy's limit, or the backend's declared one if that is smaller."""
    if isinstance(declared, int) and not isinstance(declared, bool) and declared > 0:
        return min(policy.max_bytes, declared)
    return policy.max_bytes


__all__ = [
    "DeliveryPolicy",
    "DropCause",
    "InvalidMessage",
    "MessageOutcome",
    "MessageTooLarge",
    "Notify",
    "checked",
    "effective_limit",
]
