"""Builds the reference server with its aiortc SFU wired in (what ``ptt serve`` runs)."""

from __future__ import annotations

from typing import Any

from .app import PttServer
from .media import STALL_TIMEOUT


def media_server(
    secret: str,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    stall_timeout: float = STALL_TIMEOUT,
    **options: Any,
) -> PttServer:
    """A :class:`PttServer` whose media router is the aiortc SFU.

    The router tells the server when a producer dies on its own (its peer rebuilt its
    media or its connection failed) so members get ``producerClosed``, and when the floor
    holder's audio stalls for ``stall_timeout`` seconds (0: never) so its floor is revoked.
    """
    from .sfu import AiortcRouter

    server: PttServer | None = None

    def producer_closed(peer_id: str, producer_id: str) -> None:
        if server is not None:
            server.producer_closed(peer_id, producer_id)

    def speaker_stalled(peer_id: str) -> None:
        if server is not None:
            server.speaker_stalled(peer_id)

    router = AiortcRouter(
        on_producer_closed=producer_closed,
        on_speaker_stalled=speaker_stalled,
        stall_timeout=stall_timeout,
        bind=host,  # media listens where signaling does
    )
    server = PttServer(secret, host, port, media=router, stall_timeout=stall_timeout, **options)
    return server
