"""The path to the server as the kernel would choose it now, and what a change of it means.

Reachability is decided the way the client's own sockets will meet it: ``connect()`` of a
UDP socket sends nothing but makes the kernel pick a route and a source address, or fail
with ``ENETUNREACH``/``EHOSTUNREACH`` (an interface that is down has no route). The
outgoing interface comes from an rtnetlink route query, so a move to another interface
that keeps the same source address is still a change.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fsm.ports import NetworkChange

from . import rtnetlink

#: One address of the server: ``(family, sockaddr)`` as ``getaddrinfo`` gives it.
Target = tuple[int, tuple[Any, ...]]

PROBE_PORT = 9  # any port: routing does not depend on it, and nothing is ever sent


@dataclass(frozen=True)
class Path:
    """How a datagram to the server would leave this host."""

    server: str
    source: str
    interface: int | None  # None: the kernel would not say (not a change by itself)


def numeric_targets(host: str) -> list[Target] | None:
    """The target of an IP literal (no lookup); ``None`` for a name."""
    try:
        infos = socket.getaddrinfo(
            host, PROBE_PORT, type=socket.SOCK_DGRAM, flags=socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return [(family, sockaddr) for family, _, _, _, sockaddr in infos]


def probe(targets: Sequence[Target]) -> Path | None:
    """The path to the first server address the kernel has a route to, else ``None``."""
    for family, sockaddr in targets:
        path = _probe_one(family, sockaddr)
        if path is not None:
            return path
    return None


def _probe_one(family: int, sockaddr: tuple[Any, ...]) -> Path | None:
    try:
        with socket.socket(family, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(sockaddr)
            source = str(sock.getsockname()[0])
    except OSError:  # no route, prohibited, or the family is disabled on this host
        return None
    server = str(sockaddr[0])
    packed = ipaddress.ip_address(server.partition("%")[0]).packed
    return Path(server, source, rtnetlink.query_interface(family, packed))


def change_between(before: Path | None, after: Path | None) -> NetworkChange | None:
    """What going from ``before`` to ``after`` means for the client; ``None``: nothing."""
    if before is None:
        return None if after is None else NetworkChange.UP
    if after is None:
        return NetworkChange.DOWN
    return None if _same(before, after) else NetworkChange.ROUTE_CHANGED


def _same(before: Path, after: Path) -> bool:
    if (before.server, before.source) != (after.server, after.source):
        return False
    unknown = before.interface is None or after.interface is None
    return unknown or before.interface == after.interface
