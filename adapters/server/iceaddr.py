"""The SFU's ICE sockets bind where the server was told to listen, not on every interface.

aiortc has no bind option and aioice gathers host candidates from every interface through
its module-level ``get_host_addresses`` (skipping 127.0.0.1 and ::1). The one seam is that
function: :func:`gathering_on` replaces it, for the current task only (a ``ContextVar``),
with the server's own addresses. Code that does not ask (a client in the same process,
the server told to listen everywhere) gets aioice's own answer unchanged.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextvars import ContextVar

import aioice.ice

_WANTED: ContextVar[tuple[str, ...] | None] = ContextVar("ptt_ice_addresses", default=None)
_EVERYWHERE = frozenset({"", "0.0.0.0", "::"})


def media_addresses(host: str | None) -> tuple[str, ...] | None:
    """The addresses media may bind for a server listening on ``host`` (None: all)."""
    if host is None or host in _EVERYWHERE:
        return None
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:  # a name: bind what it resolves to, as the signaling socket does
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
        return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


@contextlib.contextmanager
def gathering_on(addresses: tuple[str, ...] | None) -> Iterator[None]:
    """ICE gathering started inside this block (same task) uses only ``addresses``."""
    _install()
    token = _WANTED.set(addresses)
    try:
        yield
    finally:
        _WANTED.reset(token)


def _install() -> None:
    if getattr(aioice.ice.get_host_addresses, "_ptt_scoped", False):
        return
    original: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        wanted = _WANTED.get()
        if wanted is None:
            return original(use_ipv4, use_ipv6)
        return [a for a in wanted if (use_ipv6 if ":" in a else use_ipv4)]

    get_host_addresses._ptt_scoped = True  # type: ignore[attr-defined]  # marks our wrapper
    aioice.ice.get_host_addresses = get_host_addresses
