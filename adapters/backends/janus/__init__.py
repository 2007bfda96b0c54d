"""The Janus AudioBridge backend: push-to-talk on a stock Janus 1.1 (``backend="janus"``).

Janus mixes (one send-receive PeerConnection per client, one mixed downlink) and has no
floor, so the floor is client-side (:mod:`.roster`), there are no channel messages, and
channels are room numbers (``"1234"``). A dropped WebSocket is resumed by ``claim``
(signal-only: media kept); a restarted Janus answers 458 and everything is rebuilt.
:class:`LocalJanus` runs a private Janus for tests and demos.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.backends.base import BackendContext, BackendPorts
from fsm.domain import Features, FloorControl

from .client import ClientOptions
from .config import JanusConfig, Room
from .handle import Attachment
from .local import LocalJanus
from .media import JanusMedia, MediaOptions
from .signaling import MIX, JanusSignaling, SignalingOptions


@dataclass(frozen=True)
class JanusBackend:
    """Builds the ports of one connection to a Janus AudioBridge.

    ``max_talk_time`` (seconds, or None) is enforced by the machine (the floor is
    client-side); ``stale_after`` should equal the server's ``reclaim_session_timeout``:
    how long a dropped talker can block the channel. ``display`` is our name in the room.
    """

    max_talk_time: float | None = 60.0
    stale_after: float = 20.0
    display: str | None = None
    client: ClientOptions = field(default_factory=ClientOptions)
    media_options: MediaOptions = field(default_factory=MediaOptions)
    name: str = "janus"

    @property
    def features(self) -> Features:
        return Features(
            floor=FloorControl.CLIENT,
            resume=True,
            messages=False,
            max_talk_time=self.max_talk_time,
        )

    def build(self, context: BackendContext) -> BackendPorts:
        attachment = Attachment(display=self.display)
        options = SignalingOptions(
            client=self.client,
            stale_after=self.stale_after,
            max_talk_time=self.max_talk_time,
            display=self.display,
        )
        signaling = JanusSignaling(attachment, options)
        media = JanusMedia(attachment, context.audio, self.media_options) if context.media else None
        return BackendPorts(signaling=signaling, media=media)


__all__ = [
    "MIX",
    "Attachment",
    "ClientOptions",
    "JanusBackend",
    "JanusConfig",
    "JanusMedia",
    "JanusSignaling",
    "LocalJanus",
    "MediaOptions",
    "Room",
    "SignalingOptions",
]
