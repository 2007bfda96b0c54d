"""``ReferenceBackend``: the reference server as a :class:`adapters.backends.base.Backend`.

Constructing it imports nothing heavy: the link (websockets) and the SFU media (aiortc)
load in :meth:`ReferenceBackend.prepare`, which ``ConnectionManager.connect`` awaits in a
worker thread before the first connect, so the event loop never stalls on an import
(``build`` still imports them itself when nobody prepared).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from adapters.backends.base import BackendContext, BackendPorts
from fsm.domain import Features, FloorControl

from . import protocol

if TYPE_CHECKING:
    from aiortc import RTCIceServer

    from .link import SignalingOptions

#: The modules ``build`` needs, slowest last (aiortc's codecs and crypto).
_HEAVY = (".link", ".signaling", ".media.sfu_media")


def _load_heavy() -> None:
    for name in _HEAVY:
        importlib.import_module(name, __package__)


class ReferenceBackend:
    """The reference PTT server: JSON over WebSocket signaling, an SFU for media.

    ``options`` are the link's timeouts and limits (its ``channel`` is set per connection
    from the context); the keyword arguments configure :class:`SfuMedia`.
    """

    name = "reference"
    features = Features(
        floor=FloorControl.SERVER,
        resume=True,
        messages=True,
        max_message_bytes=protocol.MAX_MESSAGE_BYTES,
    )

    def __init__(
        self,
        options: SignalingOptions | None = None,
        *,
        liveness_timeout: float = 3.0,
        ice_servers: Sequence[str | RTCIceServer] = (),
        connect_timeout: float = 10.0,
    ) -> None:
        self._options = options
        self.liveness_timeout = liveness_timeout
        self.ice_servers = tuple(ice_servers)
        self.connect_timeout = connect_timeout

    @property
    def options(self) -> SignalingOptions:
        if self._options is None:
            from .link import SignalingOptions

            self._options = SignalingOptions()
        return self._options

    async def prepare(self) -> None:
        """Import websockets and aiortc in a worker thread (0.1-0.5 s on a cold start)."""
        await asyncio.to_thread(_load_heavy)

    def build(self, context: BackendContext) -> BackendPorts:
        """A fresh link with its signaling and, when asked for with audio, its SFU media."""
        from .link import WebSocketLink
        from .media.sfu_media import SfuMedia
        from .signaling import ReferenceSignaling

        link = WebSocketLink(replace(self.options, channel=context.channel))
        media = None
        if context.media and context.audio is not None:
            media = SfuMedia(
                link,
                context.audio,
                liveness_timeout=self.liveness_timeout,
                ice_servers=self.ice_servers,
                connect_timeout=self.connect_timeout,
            )
        return BackendPorts(signaling=ReferenceSignaling(link), media=media)
