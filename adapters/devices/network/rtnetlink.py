"""Just enough rtnetlink (Linux ``NETLINK_ROUTE``) for the watcher: a socket subscribed to
link, address, route and rule changes, the framing of its datagrams, and one route query.

The watcher never trusts the content of a notification to decide anything: it only learns
*that* something changed and then asks the kernel about the path to the server. So the
framing here is validated (a corrupt datagram yields what could be framed, never raises)
and message bodies are parsed only for the route query's answer.

``socket.AF_NETLINK`` and friends exist only on Linux: they are looked up inside the
functions so this module imports everywhere.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass

NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, proto, scope, type
RTATTR = struct.Struct("=HH")  # length, type
ERRNO = struct.Struct("=i")

NLMSG_ERROR = 2
NLM_F_REQUEST = 1
RTM_NEWLINK, RTM_DELLINK = 16, 17
RTM_NEWADDR, RTM_DELADDR = 20, 21
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWRULE, RTM_DELRULE = 32, 33
RTA_DST, RTA_OIF = 1, 4

#: The notifications that can change the path to the server.
CHANGES = frozenset(
    {
        RTM_NEWLINK,
        RTM_DELLINK,
        RTM_NEWADDR,
        RTM_DELADDR,
        RTM_NEWROUTE,
        RTM_DELROUTE,
        RTM_NEWRULE,
        RTM_DELRULE,
    }
)


def _group(number: int) -> int:
    """The legacy bind() mask bit of multicast group ``number`` (RTNLGRP_*)."""
    return 1 << (number - 1)


# RTNLGRP_LINK, IPV4_IFADDR, IPV4_ROUTE, IPV4_RULE, IPV6_IFADDR, IPV6_ROUTE, IPV6_RULE.
# Not the neighbour tables: ARP/NDP churn all the time and never changes the route.
GROUPS = sum(_group(n) for n in (1, 5, 7, 8, 9, 11, 19))

RECEIVE_BUFFER = 1 << 20  # a link flap on a busy host is hundreds of route messages


def open_monitor() -> socket.socket:
    """A non-blocking netlink socket receiving :data:`GROUPS`; raises ``OSError``."""
    sock = socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
        socket.NETLINK_ROUTE,
    )
    try:
        # Best effort: the kernel caps it at net.core.rmem_max; an overflow is survivable
        # (ENOBUFS makes the watcher re-evaluate) so a smaller buffer is no error.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind((0, GROUPS))
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class Message:
    kind: int
    body: bytes


def _align(length: int) -> int:
    return (length + 3) & ~3


def split(data: bytes) -> Iterator[Message]:
    """The messages framed in one datagram; stops at the first header that does not fit."""
    offset = 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, kind, _flags, _seq, _port = NLMSG_HEADER.unpack_from(data, offset)
        if length < NLMSG_HEADER.size or offset + length > len(data):
            return  # truncated or corrupt: nothing after it can be framed
        yield Message(kind, data[offset + NLMSG_HEADER.size : offset + length])
        offset += _align(length)


def attributes(data: bytes, offset: int = 0) -> dict[int, bytes]:
    """The route attributes (``struct rtattr``) from ``offset``; stops at a corrupt one."""
    found: dict[int, bytes] = {}
    while offset + RTATTR.size <= len(data):
        length, kind = RTATTR.unpack_from(data, offset)
        if length < RTATTR.size or offset + length > len(data):
            break
        found[kind & 0x3FFF] = data[offset + RTATTR.size : offset + length]  # minus NLA flags
        offset += _align(length)
    return found


def route_request(family: int, address: bytes, sequence: int) -> bytes:
    """``RTM_GETROUTE`` for ``address``: what ``ip route get ADDRESS`` asks."""
    attribute = RTATTR.pack(RTATTR.size + len(address), RTA_DST) + address
    attribute += b"\0" * (_align(len(attribute)) - len(attribute))
    body = RTMSG.pack(family, len(address) * 8, 0, 0, 0, 0, 0, 0, 0) + attribute
    header = NLMSG_HEADER.pack(
        NLMSG_HEADER.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, sequence, 0
    )
    return header + body


def route_interface(reply: bytes) -> int | None:
    """The outgoing interface index in the answer to :func:`route_request`, if any."""
    for message in split(reply):
        if message.kind == RTM_NEWROUTE and len(message.body) >= RTMSG.size:
            oif = attributes(message.body, RTMSG.size).get(RTA_OIF)
            if oif is not None and len(oif) == 4:
                return int.from_bytes(oif, sys.byteorder)  # netlink speaks host order
    return None  # NLMSG_ERROR (no route) or an answer we cannot read


def query_interface(family: int, address: bytes) -> int | None:
    """Ask the kernel which interface it would send to ``address`` on; ``None`` if it
    cannot say. rtnetlink answers a request synchronously while the sender is still in
    ``sendto``, so the short timeout bounds only a kernel that misbehaves."""
    try:
        with socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
        ) as sock:
            sock.settimeout(0.05)
            sock.sendto(route_request(family, address, 1), (0, 0))
            return route_interface(sock.recv(65536))
    except OSError:
        return None
