"""Callbacks handed to the ports, bound to the one operation they report on.

Each turns a backend's domain fact into a machine event; a report from a superseded
operation (an old link, an old media path) is dropped by the generation check first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .domain import AudioSource, ChannelMessage, FloorLost, Member
from .errors import LinkError, TransportError
from .ports import NetworkChange

if TYPE_CHECKING:
    from .core import MachineCore


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

    def member_joined(self, member: Member) -> None:
        self._post("member_joined", member=member)

    def member_left(self, peer_id: str) -> None:
        self._post("member_left", peer_id=peer_id)

    def speaker_changed(self, peer_id: str | None) -> None:
        self._post("speaker_changed", peer_id=peer_id)

    def floor_lost(self, tx_id: str | None, why: FloorLost) -> None:
        self._post("floor_lost", tx_id=tx_id, why=why)

    def sources_changed(self, sources: Sequence[AudioSource]) -> None:
        self._post("sources_changed", sources=tuple(sources))

    def message(self, message: ChannelMessage) -> None:
        self._post("message_received", message=message)


class _MediaBinding:
    def __init__(self, machine: MachineCore, generation: int) -> None:
        self._m = machine
        self._gen = generation

    def failed(self, error: TransportError) -> None:
        self._m._post_if_current("media", self._gen, "media_failed", error=error)


class _NetworkBinding:
    """The events object handed to ``NetworkWatch.start``; dropped once the watch stops."""

    def __init__(self, machine: MachineCore, generation: int) -> None:
        self._m = machine
        self._gen = generation

    def changed(self, change: NetworkChange) -> None:
        self._m._post_if_current("network", self._gen, "network_changed", change=change)
