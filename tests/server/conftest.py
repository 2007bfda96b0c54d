"""Fixtures for the reference server's tests: real servers on loopback, real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters.server import PttServer
from adapters.server.testing import RawClient, bearer

SECRET = "test-secret-" + "0123456789abcdef" * 4  # long enough for HS512 too


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[..., Awaitable[PttServer]]]:
    """Start servers with a short grace and close timeout unless told otherwise."""
    servers: list[PttServer] = []

    async def make(**options: Any) -> PttServer:
        options.setdefault("grace", 0.3)
        options.setdefault("close_timeout", 0.5)
        server = PttServer(SECRET, **options)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
async def server(make_server: Callable[..., Awaitable[PttServer]]) -> PttServer:
    return await make_server()


@pytest.fixture
async def connect(server: PttServer) -> AsyncIterator[Callable[..., Awaitable[RawClient]]]:
    """Open a client to ``server`` (or ``to=``) as ``user``; join unless ``join=False``."""
    clients: list[RawClient] = []

    async def open_client(
        user: str,
        channel: str = "ops",
        *,
        join: bool = True,
        to: PttServer | None = None,
        session_id: str | None = None,
        ttl: float = 60.0,
    ) -> RawClient:
        client = await RawClient.open((to or server).url, bearer(SECRET, user, channel, ttl))
        clients.append(client)
        if join:
            await client.join(channel, session_id)
        return client

    yield open_client
    for client in clients:
        await client.aclose()
