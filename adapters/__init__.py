"""The I/O edges of ptt-fsm, grouped by role: ``backends/`` (one package per kind of
server: ``reference``), ``devices/`` (audio, clock, tokens), ``app/`` (the ``ptt`` CLI,
demo, console), ``testing/`` (fault proxy, conformance kit, fake backend), ``server/``
(the reference server), and :class:`ConnectionManager`, the public API."""

from .backends import Backend, BackendContext, BackendPorts
from .backends.reference.link import SignalingOptions
from .manager import AudioOptions, ConnectionManager, Metrics
from .ptt import PttController

__all__ = [
    "AudioOptions",
    "Backend",
    "BackendContext",
    "BackendPorts",
    "ConnectionManager",
    "Metrics",
    "PttController",
    "SignalingOptions",
]
