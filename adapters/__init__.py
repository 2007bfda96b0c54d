"""The I/O edges of ptt-fsm: signaling (websockets), transports (aiortc), audio
(sounddevice), clock, logging, the reference server, the fault proxy and the ``ptt`` CLI."""

from adapters.backends.reference.link import SignalingOptions

from .manager import AudioOptions, ConnectionManager, Metrics, PttController

__all__ = ["AudioOptions", "ConnectionManager", "Metrics", "PttController", "SignalingOptions"]
