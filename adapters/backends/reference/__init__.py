"""The reference backend: owns the reference server's wire end to end.

- :mod:`.protocol`: the wire's constants (methods, notifications, error and close codes),
  shared with the server (``adapters.server``);
- :mod:`.causes`: what each code means as an :class:`fsm.errors.Cause`;
- :mod:`.codec`: server answers and notifications decoded into :mod:`fsm.domain` values;
- :mod:`.link`: the WebSocket request/response link;
- :mod:`.signaling`: :class:`ReferenceSignaling`, the ``Signaling`` port on the link;
- :mod:`.media`: :class:`SfuMedia`, the ``Media`` port on aiortc;
- :mod:`.backend`: :class:`ReferenceBackend`, which builds both per connection.

The names are loaded on first use, so the server can import :mod:`.protocol` without
loading the client (and with it the engine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import ReferenceBackend
    from .link import SignalingOptions
    from .media.sfu_media import SfuMedia
    from .signaling import ReferenceSignaling

_HOMES = {
    "ReferenceBackend": ".backend",
    "ReferenceSignaling": ".signaling",
    "SfuMedia": ".media.sfu_media",
    "SignalingOptions": ".link",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)


__all__ = ["ReferenceBackend", "ReferenceSignaling", "SfuMedia", "SignalingOptions"]
