"""WebRTC transports on aiortc: the client side of the reference SFU (``adapters.server.sfu``)."""

from .aiortc_transports import AiortcTransports
from .gate import MicGate
from .seams import AudioIO, Requester

__all__ = ["AiortcTransports", "AudioIO", "MicGate", "Requester"]
