"""Link loss with Janus alive (claim: a signal-only resume), Janus restarted (458: a full
rebuild) and an idle session kept past a short session_timeout by the keepalive."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from adapters.backends.janus import LocalJanus
from fsm.errors import LinkError

from .conftest import ROOM, Client, MakeClient, drop_websocket, joined_client, value


async def lost(client: Client, within: float = 10.0) -> LinkError:
    _, error = await client.events.wait_for(lambda k, _: k == "lost", within)
    assert isinstance(error, LinkError)
    return error


async def test_a_dropped_websocket_is_claimed_back_with_media_kept(
    make_client: MakeClient,
) -> None:
    """Janus alive: claim on a new WebSocket gives Joined(resumed=True), same peer, same pc."""
    client = await joined_client(make_client, media=True)
    await client.connect_media()
    assert client.media is not None
    pc = client.media.pc
    first = client.joined
    assert first is not None

    started = time.monotonic()
    await drop_websocket(client)
    await lost(client)
    assert await client.open() == "opened"
    again = await client.join(ROOM, first.resume_id)
    took = time.monotonic() - started
    assert again.resumed
    assert again.peer_id == first.peer_id
    assert again.resume_id == first.resume_id
    assert client.media.pc is pc
    assert client.media.is_alive()
    assert client.media_events.log == []  # the media never noticed
    print(f"drop -> resumed in {took * 1000:.0f} ms")


async def test_a_restarted_janus_means_a_new_session(
    make_client: MakeClient, janus: LocalJanus
) -> None:
    """SIGKILL + restart: the claim answers 458, the join is fresh (resumed=False)."""
    client = await joined_client(make_client)
    first = client.joined
    assert first is not None
    await janus.kill()
    await lost(client, within=5.0)
    await janus.start()
    assert await client.open() == "opened"
    again = await client.join(ROOM, first.resume_id)
    assert not again.resumed
    assert again.peer_id != first.peer_id
    assert again.resume_id != first.resume_id


async def test_keepalive_holds_a_session_past_a_short_session_timeout(
    tmp_path: Path, make_client: MakeClient
) -> None:
    """session_timeout 5 s, keepalive every 2 s: idle for 9 s and still there."""
    async with LocalJanus(tmp_path / "short", session_timeout=5) as short:
        client = await make_client(server=short)
        assert await client.open() == "opened"
        await client.join()
        await asyncio.sleep(9.0)
        assert "lost" not in client.events.kinds()
        answer = await value(lambda r: client.signaling.request_floor("tx", r))
        assert answer.granted
        await client.signaling.aclose()
