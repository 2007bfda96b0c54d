"""The boundary where aiortc, network and signaling failures become ``TransportError``s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsm.errors import TransportError


def as_transport_error(exc: BaseException, what: str) -> TransportError:
    """``exc`` as the one error type the media port reports, keeping it as the cause."""
    if isinstance(exc, TransportError):
        return exc
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        detail = f"timed out ({detail})"
    error = TransportError(detail if detail.startswith(what) else f"{what}: {detail}")
    error.__cause__ = exc
    return error


def field(data: Any, key: str) -> str:
    """A required string in a server response; a missing one is the server's fault."""
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, str) or not value:
        raise TransportError(f"the server's response has no {key!r}")
    return value
