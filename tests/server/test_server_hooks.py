"""Test hooks and lifecycle: kick, channel deletion, raw frames, shutdown, serve_forever."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import connect as ws_connect

from adapters.backends.reference import protocol
from adapters.server import PttServer
from adapters.server.testing import RawClient, bearer

Connect = Callable[..., Awaitable[RawClient]]


async def test_kick_speaker_final_goodbye(server: PttServer, connect: Connect) -> None:
    """A kicked speaker hears floorRevoked(kicked) then 4000; the others see it leave."""
    alice, bob = await connect("alice"), await connect("bob")
    await alice.ok("pttStart", {"tx_id": "a1"})
    assert await server.kick("alice") == 1
    assert await alice.closed() == protocol.CLOSE_KICKED
    assert alice.find(protocol.FLOOR_REVOKED) == {"tx_id": "a1", "reason": "kicked"}
    await bob.note(protocol.SPEAKER_CHANGED, peer_id=None)
    await bob.note(protocol.PEER_LEFT, peer_id=alice.joined["peer_id"])
    again = await connect("alice", session_id=alice.joined["session_id"])
    assert again.joined["resumed"] is False


async def test_kick_reaches_unjoined_links_and_sessions_in_grace(
    server: PttServer, connect: Connect
) -> None:
    """Kick closes links that never joined and ends a session waiting in its grace period."""
    idle = await connect("eve", join=False)
    bob = await connect("bob")
    gone = await connect("carl")
    await gone.ws.close()
    assert await server.kick("eve") == 1
    assert await idle.closed() == protocol.CLOSE_KICKED
    assert await server.kick("carl") == 0
    await bob.note(protocol.PEER_LEFT, peer_id=gone.joined["peer_id"], within=0.1)
    assert await server.kick("nobody") == 0


async def test_delete_channel_closes_members_4004(server: PttServer, connect: Connect) -> None:
    """Deleting a channel closes its members with 4004 and leaves other channels alone."""
    alice, bob = await connect("alice", "ops"), await connect("bob", "ops")
    other = await connect("zed", "other")
    assert await server.delete_channel("ops") == 2
    assert await alice.closed() == protocol.CLOSE_CHANNEL_DELETED
    assert await bob.closed() == protocol.CLOSE_CHANNEL_DELETED
    assert alice.find(protocol.PEER_LEFT) is None
    assert await other.ok("ping")
    assert await server.delete_channel("ops") == 0
    fresh = await connect("carol", "ops")
    assert fresh.joined["members"] == [fresh.joined["peer_id"]]


async def test_send_raw_reaches_the_client(server: PttServer, connect: Connect) -> None:
    """send_raw queues text or binary frames as-is to the user's links only."""
    alice, bob = await connect("alice"), await connect("bob")
    assert server.send_raw("alice", "{not json") == 1
    assert server.send_raw("alice", b"\xff\x00") == 1
    await alice.wait_for(lambda: len(alice.raw) == 2)
    assert alice.raw == ["{not json", b"\xff\x00"]
    assert bob.raw == []
    assert server.send_raw("nobody", "x") == 0


async def test_close_sends_1001_to_everyone(
    make_server: Callable[..., Awaitable[PttServer]], connect: Connect, secret: str
) -> None:
    """Shutdown closes every link with 1001 (going away), then stops listening."""
    server = await make_server()
    clients = [await connect(user, to=server) for user in ("alice", "bob")]
    clients.append(await connect("eve", to=server, join=False))
    await server.close()
    for client in clients:
        assert await client.closed() == protocol.CLOSE_GOING_AWAY
    assert server.links() == 0
    with pytest.raises(ConnectionRefusedError):
        await ws_connect(server.url, additional_headers=bearer(secret, "a", "ops"))
    await server.close()  # idempotent


_SERVE = """
import asyncio, sys
from adapters.server import PttServer, serve_forever
asyncio.run(serve_forever(PttServer("s" * 32), ready=lambda url: print(url, flush=True)))
print("stopped", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serve_forever_stops_on_signal(sig: signal.Signals) -> None:
    """serve_forever reports the URL first, then shuts down cleanly on SIGINT/SIGTERM."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVE, stdout=asyncio.subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    try:
        url = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert url.startswith("ws://127.0.0.1:")
        assert url.endswith("/ptt")
        client = await RawClient.open(url, bearer("s" * 32, "alice", "ops"))
        proc.send_signal(sig)
        assert await client.closed(within=5) == protocol.CLOSE_GOING_AWAY
        assert await asyncio.wait_for(proc.wait(), 5) == 0
        assert (await proc.stdout.read()).decode().strip().endswith("stopped")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
