"""Backends: one package per kind of server, each owning its wire end to end.

- :mod:`adapters.backends.reference`: our reference server (``ptt serve``): an SFU with
  server-side floor control, session resume and channel messages.
- :mod:`adapters.backends.janus`: Janus 1.1.2's AudioBridge: a mixer with no floor control
  (the clients apply one floor policy), session claim after a dropped WebSocket, no
  channel messages.

``ConnectionManager(backend=...)`` takes a :class:`Backend` object or one of these names.
Everything here loads on first use, so the reference server importing its protocol does
not load the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import AudioIO, Backend, BackendContext, BackendPorts

#: Built-in backends by name (imported lazily: a backend's libraries load only if used).
BUILT_IN = ("reference", "janus")


def __getattr__(name: str) -> Any:
    if name in ("AudioIO", "Backend", "BackendContext", "BackendPorts"):
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve(backend: Backend | str) -> Backend:
    """The backend object for ``backend`` (a name of :data:`BUILT_IN`, or your own)."""
    from fsm.errors import ConfigError

    from .base import Backend

    if not isinstance(backend, str):
        if not isinstance(backend, Backend):
            raise ConfigError(f"backend must be a Backend or one of {BUILT_IN}, got {backend!r}")
        return backend
    if backend == "reference":
        from .reference import ReferenceBackend

        return ReferenceBackend()
    if backend == "janus":
        from .janus import JanusBackend

        return JanusBackend()
    raise ConfigError(f"unknown backend {backend!r}; built in: {', '.join(BUILT_IN)}")


__all__ = ["BUILT_IN", "AudioIO", "Backend", "BackendContext", "BackendPorts", "resolve"]
