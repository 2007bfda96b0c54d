"""SDP plumbing shared by both transports: what we send with an offer, what we accept back,
and which codecs we offer (ours that the server also supports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpCodecCapability, RTCRtpSender, RTCSessionDescription

from fsm.errors import TransportError

from .errors import field

#: A signaling request that raises only ``TransportError`` (``MediaSession._call``).
Call = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


def offer_of(transport_id: str, pc: RTCPeerConnection) -> dict[str, str]:
    """``{transport_id, sdp, type}`` for the pc's applied local offer (with its candidates)."""
    local = pc.localDescription
    return {"transport_id": transport_id, "sdp": local.sdp, "type": local.type}


def answer_from(data: Mapping[str, Any]) -> RTCSessionDescription:
    if data.get("type") != "answer":
        raise TransportError(f"the server answered with {data.get('type')!r}, not an answer")
    return RTCSessionDescription(sdp=field(data, "sdp"), type="answer")


def common_codecs(capabilities: Mapping[str, Any]) -> list[RTCRtpCodecCapability]:
    """Our audio codecs the server also supports, in our order (Opus first)."""
    offered = capabilities.get("codecs")
    names = {
        str(c.get("mimeType", "")).lower()
        for c in (offered if isinstance(offered, list) else [])
        if isinstance(c, Mapping)
    }
    ours = RTCRtpSender.getCapabilities("audio").codecs
    common = [c for c in ours if c.mimeType.lower() in names]
    if not common:
        raise TransportError(f"no audio codec in common with the server (it offers {names})")
    return common
