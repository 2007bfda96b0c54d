"""Callbacks handed to the ports, bound to the one operation they report on.

A report from a superseded operation (an old link, old transports) is dropped by the
machine's generation check before it becomes an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import LinkError, TransportError

if TYPE_CHECKING:
    from .core import MachineCore

#: Server notifications that only update the channel picture.
CHANNEL_NOTIFICATIONS = frozenset({"speakerChanged", "peerJoined", "peerLeft"})


class _LinkBinding:
    """The events object handed to one ``Signaling.open``; dropped once superseded."""

    def __init__(self, machine: MachineCore, generation: int) -> None:
        self._m = machine
        self._gen = generation

    def _post(self, event: str, **data: Any) -> None:
        self._m._post_if_current("link", self._gen, event, **data)

    def opened(self) -> None:
        self._post("link_opened")

    def failed(self, error: LinkError) -> None:
        self._post("link_failed", error=error)

    def lost(self, error: LinkError) -> None:
        self._post("link_lost", error=error)

    def notification(self, method: str, data: Mapping[str, Any]) -> None:
        event, kwargs = _notification_event(method, data)
        if event is not None:
            self._post(event, **kwargs)


class _MediaBinding:
    def __init__(self, machine: MachineCore, generation: int) -> None:
        self._m = machine
        self._gen = generation

    def failed(self, error: TransportError) -> None:
        self._m._post_if_current("media", self._gen, "media_failed", error=error)


def _notification_event(method: str, data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Map a server notification to a machine event (unknown ones are dropped)."""
    if method == "newProducer":
        return "producer_added", {"data": data}
    if method == "producerClosed":
        return "producer_closed", {"data": data}
    if method in ("floorGranted", "floorDenied", "floorRevoked"):
        name = {"floorGranted": "floor_granted", "floorDenied": "floor_denied"}.get(
            method, "floor_revoked"
        )
        return name, {"data": data}
    if method in CHANNEL_NOTIFICATIONS:
        return "channel_updated", {"kind": method, "data": data}
    if method == "message":
        return "message_received", {"data": data}
    return None, {}
