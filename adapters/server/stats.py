"""What the server saw, for tests and operators: handshake outcomes, requests per user."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class LoggedRequest(NamedTuple):
    method: str
    data: dict[str, Any]


@dataclass
class Stats:
    #: Handshake outcomes: ``"ok"`` or the HTTP status as a string (``"401"``, ``"503"``...).
    handshakes: Counter[str] = field(default_factory=Counter)
    #: Requests accepted for dispatch (well-formed, within the rate limit), per user, in order.
    requests: defaultdict[str, list[LoggedRequest]] = field(
        default_factory=lambda: defaultdict(list)
    )

    #: ``message`` payloads relayed to the channel (duplicates by ``msg_id`` left out).
    delivered: defaultdict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def record(self, user: str, method: str, data: dict[str, Any]) -> None:
        self.requests[user].append(LoggedRequest(method, data))

    def methods(self, user: str) -> list[str]:
        return [r.method for r in self.requests.get(user, [])]

    def messages(self, user: str) -> list[dict[str, Any]]:
        """The payloads of ``user``'s ``message`` requests, in the order received."""
        return [r.data for r in self.requests.get(user, []) if r.method == "message"]
