"""The media seam: the server relays signaling and leaves WebRTC to a :class:`MediaRouter`.

Routers report expected failures as :class:`MediaError` (the client gets its ``code``);
anything else they raise becomes an ``internal`` error response.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from adapters.backends.reference import protocol

#: Seconds without audio from the floor holder's producer before a router that watches
#: for stalls reports it (shorter than the clients' 3 s media liveness check, so listeners
#: hear the floor free before they would declare their own media dead).
STALL_TIMEOUT = 1.5


class MediaError(Exception):
    """A media request the router refuses; ``code`` is one of the protocol's ``E_*`` codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MediaUnsupported(MediaError):
    def __init__(self, message: str = "media not supported") -> None:
        super().__init__(protocol.E_NOT_FOUND, message)


class MediaRouter(Protocol):
    def capabilities(self) -> dict[str, Any]: ...

    async def create_transport(self, peer_id: str, direction: str) -> dict[str, Any]:
        """Return ``{"transport_id": str}``."""
        ...

    async def connect_transport(
        self, peer_id: str, transport_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        """Return the answer ``{"sdp": str, "type": str}``."""
        ...

    async def produce(self, peer_id: str, transport_id: str, kind: str) -> dict[str, Any]:
        """Return ``{"producer_id": str}``."""
        ...

    async def consume(
        self, peer_id: str, transport_id: str, producer_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        """Return ``{"consumer_id": str, "sdp": str, "type": str}``."""
        ...

    async def close_consumer(self, peer_id: str, consumer_id: str) -> None: ...

    def floor_changed(self, channel: str, peer_id: str | None) -> None:
        """Only the floor holder's audio is forwarded; ``None`` mutes the channel."""
        ...

    async def close_peer(self, peer_id: str) -> None:
        """The session ended (leave, grace expired, kick, channel deleted, shutdown)."""
        ...


@runtime_checkable
class ChannelAware(Protocol):
    """Optional: a router that wants to know each peer's channel implements this too."""

    def join_channel(self, peer_id: str, channel: str | None) -> None:
        """``channel`` is ``None`` when the peer's session ends."""
        ...


class NoMedia:
    """A signaling-only server: capabilities are empty and media requests are refused."""

    def capabilities(self) -> dict[str, Any]:
        return {"codecs": []}

    async def create_transport(self, peer_id: str, direction: str) -> dict[str, Any]:
        raise MediaUnsupported

    async def connect_transport(
        self, peer_id: str, transport_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        raise MediaUnsupported

    async def produce(self, peer_id: str, transport_id: str, kind: str) -> dict[str, Any]:
        raise MediaUnsupported

    async def consume(
        self, peer_id: str, transport_id: str, producer_id: str, sdp: str, type: str
    ) -> dict[str, Any]:
        raise MediaUnsupported

    async def close_consumer(self, peer_id: str, consumer_id: str) -> None:
        raise MediaUnsupported

    def floor_changed(self, channel: str, peer_id: str | None) -> None:
        pass

    async def close_peer(self, peer_id: str) -> None:
        pass
