"""``ReferenceBackend``: the reference server as a :class:`adapters.backends.base.Backend`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aiortc import RTCIceServer

from adapters.backends.base import BackendContext, BackendPorts
from fsm.domain import Features, FloorControl

from .link import SignalingOptions, WebSocketLink
from .media.sfu_media import SfuMedia
from .signaling import ReferenceSignaling


class ReferenceBackend:
    """The reference PTT server: JSON over WebSocket signaling, an SFU for media.

    ``options`` are the link's timeouts and limits (its ``channel`` is set per connection
    from the context); the keyword arguments configure :class:`SfuMedia`.
    """

    name = "reference"
    features = Features(floor=FloorControl.SERVER, resume=True, messages=True)

    def __init__(
        self,
        options: SignalingOptions | None = None,
        *,
        liveness_timeout: float = 3.0,
        ice_servers: Sequence[str | RTCIceServer] = (),
        connect_timeout: float = 10.0,
    ) -> None:
        self.options = options or SignalingOptions()
        self.liveness_timeout = liveness_timeout
        self.ice_servers = tuple(ice_servers)
        self.connect_timeout = connect_timeout

    def build(self, context: BackendContext) -> BackendPorts:
        """A fresh link with its signaling and, when asked for with audio, its SFU media."""
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
