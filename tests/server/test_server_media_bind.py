"""The SFU's ICE sockets bind only where ``ptt serve`` was told to listen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack

from adapters.backends.reference import protocol
from adapters.server import PttServer, media_server
from adapters.server.testing import RawClient, bearer


@pytest.fixture
async def loopback_sfu(secret: str) -> AsyncIterator[PttServer]:
    server = media_server(secret, "127.0.0.1", 0, grace=0.3, close_timeout=0.5)
    await server.start()
    yield server
    await server.close()


def _server_candidates(server: PttServer) -> list[Any]:
    """The local ICE candidates of every peer connection the SFU holds (public aiortc API)."""
    transports = server.media._transports.values()  # type: ignore[attr-defined]
    candidates = []
    for transport in transports:
        for transceiver in transport.pc.getTransceivers():
            ice = transceiver.receiver.transport.transport
            candidates += ice.iceGatherer.getLocalCandidates()
    return candidates


async def test_media_binds_only_the_listening_address(loopback_sfu: PttServer, secret: str) -> None:
    """Bound to 127.0.0.1, the SFU offers candidates on 127.0.0.1 only, and media connects."""
    client = await RawClient.open(loopback_sfu.url, bearer(secret, "alice", "ops"))
    client.timeout = 10.0  # media calls on 2 busy cores
    await client.join("ops")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        created = await client.ok(protocol.CREATE_TRANSPORT, {"direction": "send"})
        answer = await client.ok(
            protocol.CONNECT_TRANSPORT,
            {"transport_id": created["transport_id"], **_description(pc)},
        )
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        async with asyncio.timeout(10.0):
            while pc.connectionState != "connected":  # noqa: ASYNC110  (aiortc's state, polled)
                await asyncio.sleep(0.02)
        addresses = {c.ip for c in _server_candidates(loopback_sfu)}
        assert addresses == {"127.0.0.1"}
    finally:
        await pc.close()
        await client.aclose()


def _description(pc: RTCPeerConnection) -> dict[str, str]:
    assert pc.localDescription is not None
    return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}


def test_listening_everywhere_leaves_gathering_to_aioice() -> None:
    """0.0.0.0 / :: / no host mean every interface: aioice's own list, untouched."""
    from adapters.server.iceaddr import media_addresses

    assert media_addresses("0.0.0.0") is None
    assert media_addresses("::") is None
    assert media_addresses(None) is None
    assert media_addresses("fd00::2") == ("fd00::2",)
    assert "127.0.0.1" in (media_addresses("localhost") or ())
