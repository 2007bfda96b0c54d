"""Builds the reference server with its aiortc SFU wired in (what ``ptt serve`` runs)."""

from __future__ import annotations

from typing import Any

from .app import PttServer


def media_server(secret: str, host: str = "127.0.0.1", port: int = 0, **options: Any) -> PttServer:
    """A :class:`PttServer` whose media router is the aiortc SFU.

    The router tells the server when a producer dies on its own (its peer rebuilt its
    media or its connection failed) so members get ``producerClosed``."""
    from .sfu import AiortcRouter

    server: PttServer | None = None

    def producer_closed(peer_id: str, producer_id: str) -> None:
        if server is not None:
            server.producer_closed(peer_id, producer_id)

    router = AiortcRouter(on_producer_closed=producer_closed)
    server = PttServer(secret, host, port, media=router, **options)
    return server
