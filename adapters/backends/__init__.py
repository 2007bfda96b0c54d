"""Backends: one package per kind of server, each owning its wire end to end.

- :mod:`adapters.backends.reference`: our reference server (``ptt serve``): an SFU with
  server-side floor control, session resume and channel messages.

``ConnectionManager(backend=...)`` takes a :class:`Backend` object or one of these names.
"""

from __future__ import annotations

from fsm.errors import ConfigError

from .base import AudioIO, Backend, BackendContext, BackendPorts

#: Built-in backends by name (imported lazily: a backend's libraries load only if used).
BUILT_IN = ("reference",)


def resolve(backend: Backend | str) -> Backend:
    """The backend object for ``backend`` (a name of :data:`BUILT_IN`, or your own)."""
    if not isinstance(backend, str):
        if not isinstance(backend, Backend):
            raise ConfigError(f"backend must be a Backend or one of {BUILT_IN}, got {backend!r}")
        return backend
    if backend == "reference":
        from .reference import ReferenceBackend

        return ReferenceBackend()
    raise ConfigError(f"unknown backend {backend!r}; built in: {', '.join(BUILT_IN)}")


__all__ = ["BUILT_IN", "AudioIO", "Backend", "BackendContext", "BackendPorts", "resolve"]
