"""Framing and parsing of rtnetlink datagrams: what the kernel sends, and garbage."""

from __future__ import annotations

import socket
import struct

from hypothesis import given
from hypothesis import strategies as st

from adapters.devices.network import rtnetlink
from adapters.devices.network.rtnetlink import NLMSG_HEADER, RTATTR, RTMSG


def message(kind: int, body: bytes) -> bytes:
    framed = NLMSG_HEADER.pack(NLMSG_HEADER.size + len(body), kind, 0, 0, 0) + body
    return framed + b"\0" * (-len(framed) % 4)


def route_reply(oif: int) -> bytes:
    attrs = RTATTR.pack(8, rtnetlink.RTA_DST) + bytes([192, 0, 2, 10])
    attrs += RTATTR.pack(8, rtnetlink.RTA_OIF) + struct.pack("=I", oif)
    return message(rtnetlink.RTM_NEWROUTE, RTMSG.pack(2, 32, 0, 0, 254, 0, 0, 1, 0) + attrs)


def test_split_frames_several_messages_with_padding() -> None:
    """Messages are framed by their own length, padded to 4 bytes."""
    data = message(rtnetlink.RTM_NEWLINK, b"abcde") + message(rtnetlink.RTM_DELROUTE, b"")
    assert [(m.kind, m.body) for m in rtnetlink.split(data)] == [
        (rtnetlink.RTM_NEWLINK, b"abcde"),
        (rtnetlink.RTM_DELROUTE, b""),
    ]


def test_split_stops_at_a_length_that_does_not_fit() -> None:
    """A header claiming more (or less) than there is ends the framing, without raising."""
    good = message(rtnetlink.RTM_NEWADDR, b"1234")
    too_long = NLMSG_HEADER.pack(1000, rtnetlink.RTM_NEWLINK, 0, 0, 0) + b"x" * 8
    too_short = NLMSG_HEADER.pack(3, rtnetlink.RTM_NEWLINK, 0, 0, 0)
    assert [m.kind for m in rtnetlink.split(good + too_long)] == [rtnetlink.RTM_NEWADDR]
    assert list(rtnetlink.split(too_short + good)) == []


@given(st.binary(max_size=512))
def test_garbage_never_raises(data: bytes) -> None:
    """Any bytes at all: framing, attributes and the route answer return, never raise."""
    list(rtnetlink.split(data))
    rtnetlink.attributes(data)
    rtnetlink.route_interface(data)


def test_route_interface_reads_the_oif_attribute() -> None:
    """The answer to a route query names the outgoing interface."""
    assert rtnetlink.route_interface(route_reply(7)) == 7


def test_route_interface_of_an_error_is_none() -> None:
    """``NLMSG_ERROR`` (no route) has no interface."""
    error = message(rtnetlink.NLMSG_ERROR, struct.pack("=i", -101) + b"\0" * 16)
    assert rtnetlink.route_interface(error) is None


def test_route_request_is_what_ip_route_get_sends() -> None:
    """RTM_GETROUTE, NLM_F_REQUEST, a /32 destination attribute."""
    request = rtnetlink.route_request(socket.AF_INET, bytes([192, 0, 2, 10]), 5)
    (only,) = rtnetlink.split(request)
    assert only.kind == rtnetlink.RTM_GETROUTE
    assert RTMSG.unpack_from(only.body)[:2] == (socket.AF_INET, 32)
    assert rtnetlink.attributes(only.body, RTMSG.size) == {
        rtnetlink.RTA_DST: bytes([192, 0, 2, 10])
    }


def test_the_kernel_answers_a_route_query_for_loopback() -> None:
    """On this host the kernel names ``lo`` as the way to 127.0.0.1."""
    assert rtnetlink.query_interface(
        socket.AF_INET, bytes([127, 0, 0, 1])
    ) == socket.if_nametoindex("lo")
