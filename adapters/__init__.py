"""The I/O edges of ptt-fsm, grouped by role: ``backends/`` (one package per kind of
server: ``reference``, ``janus``), ``devices/`` (audio, clock, tokens, network), ``app/``
(the ``ptt`` CLI, demo, console), ``testing/`` (fault proxy, conformance kit, fake
backend), ``server/`` (the reference server), and :class:`ConnectionManager`, the public
API.

Names load on first use: ``import adapters.server`` (the reference server) does not load
the client or the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backends import Backend, BackendContext, BackendPorts
    from .backends.reference.link import SignalingOptions
    from .delivery import Delivery
    from .manager import AudioOptions, ConnectionManager, Metrics
    from .ptt import PttController

_HOMES = {
    "AudioOptions": ".manager",
    "Backend": ".backends",
    "BackendContext": ".backends",
    "BackendPorts": ".backends",
    "ConnectionManager": ".manager",
    "Delivery": ".delivery",
    "Metrics": ".manager",
    "PttController": ".ptt",
    "SignalingOptions": ".backends.reference.link",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)


__all__ = [
    "AudioOptions",
    "Backend",
    "BackendContext",
    "BackendPorts",
    "ConnectionManager",
    "Delivery",
    "Metrics",
    "PttController",
    "SignalingOptions",
]
