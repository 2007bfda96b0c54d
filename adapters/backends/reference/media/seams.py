"""What the SFU media needs from the signaling side: one request/response at a time.

A Protocol so the link (:class:`~adapters.backends.reference.link.WebSocketLink`) and tests
(an in-process stand-in for the server's dispatcher) plug in structurally. The audio
devices come in as :class:`adapters.backends.base.AudioIO`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Requester(Protocol):
    """One request/response over the signaling link."""

    async def call(
        self,
        method: str,
        data: Mapping[str, Any],
        timeout: float | None = None,  # noqa: ASYNC109 (the link's own per-request deadline)
    ) -> dict[str, Any]:
        """Return the response data; raise a :class:`fsm.errors.PttError` subclass on failure."""
        ...
