"""Media requests: validated here, delegated to the :class:`MediaRouter`, and the channel's
producer list kept in step with what the router created."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from adapters.backends.reference import protocol
from fsm.logs import get_logger

from .hub import Hub
from .link import Link
from .media import MediaError
from .wire import RequestError, notification, text_arg

log = get_logger("ptt.server")

_DIRECTIONS = frozenset({"send", "recv"})
_SDP_TYPES = frozenset({"offer", "answer"})
_KINDS = frozenset({"audio"})

T = TypeVar("T")


class MediaOps:
    def __init__(self, hub: Hub, *, timeout: float) -> None:
        self._hub = hub
        self._timeout = timeout

    def capabilities(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        try:
            caps = self._hub.media.capabilities()
        except MediaError as exc:
            raise RequestError(exc.code, exc.message) from exc
        return _checked(caps, "codecs", check_str=False)

    async def create_transport(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session = self._hub.session_of(link)
        direction = text_arg(data, "direction", choices=_DIRECTIONS)
        call = self._hub.media.create_transport(session.peer_id, direction)
        return _checked(await self._call(call), "transport_id")

    async def connect_transport(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session = self._hub.session_of(link)
        transport_id = text_arg(data, "transport_id")
        sdp, sdp_type = text_arg(data, "sdp"), text_arg(data, "type", choices=_SDP_TYPES)
        call = self._hub.media.connect_transport(session.peer_id, transport_id, sdp, sdp_type)
        return _checked(await self._call(call), "sdp", "type")

    async def produce(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session = self._hub.session_of(link)
        transport_id = text_arg(data, "transport_id")
        kind = text_arg(data, "kind", choices=_KINDS)
        call = self._hub.media.produce(session.peer_id, transport_id, kind)
        result = _checked(await self._call(call), "producer_id")
        if not session.alive:
            # The session ended while the router worked: its close_peer may have run
            # before this producer existed, so close the peer's media once more.
            self._hub.release_media(session.peer_id)
            raise RequestError(protocol.E_NOT_JOINED, "the session ended")
        channel = self._hub.channel_of(session)
        producer_id: str = result["producer_id"]
        channel.producers[producer_id] = session.peer_id
        session.producers.add(producer_id)
        frame = notification(
            protocol.NEW_PRODUCER, {"producer_id": producer_id, "peer_id": session.peer_id}
        )
        for member in channel.others(session.peer_id):
            if member.link is not None:
                member.link.send(frame)
        return result

    async def consume(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session = self._hub.session_of(link)
        channel = self._hub.channel_of(session)
        transport_id, producer_id = text_arg(data, "transport_id"), text_arg(data, "producer_id")
        sdp, sdp_type = text_arg(data, "sdp"), text_arg(data, "type", choices=_SDP_TYPES)
        owner = channel.producers.get(producer_id)
        if owner is None:
            raise RequestError(protocol.E_NOT_FOUND, f"no producer {producer_id[:64]!r}")
        if owner == session.peer_id:
            raise RequestError(protocol.E_BAD_REQUEST, "cannot consume your own producer")
        call = self._hub.media.consume(session.peer_id, transport_id, producer_id, sdp, sdp_type)
        return _checked(await self._call(call), "consumer_id", "sdp", "type")

    async def close_consumer(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session = self._hub.session_of(link)
        consumer_id = text_arg(data, "consumer_id")
        await self._call(self._hub.media.close_consumer(session.peer_id, consumer_id))
        return {}

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                return await call
        except MediaError as exc:
            raise RequestError(exc.code, exc.message) from exc
        except TimeoutError as exc:
            raise RequestError(protocol.E_INTERNAL, "the media router timed out") from exc


def _checked(result: Any, *keys: str, check_str: bool = True) -> dict[str, Any]:
    """Refuse a router answer the client could not use rather than forward it."""
    if not isinstance(result, dict) or any(
        key not in result or (check_str and not isinstance(result[key], str)) for key in keys
    ):
        raise RequestError(protocol.E_INTERNAL, "the media router gave an invalid answer")
    return result
