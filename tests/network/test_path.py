"""The path probe and what a change of path means."""

from __future__ import annotations

import socket

import pytest

from adapters.devices.network.path import Path, change_between, numeric_targets, probe
from fsm.ports import NetworkChange

A = Path("192.0.2.10", "10.9.0.2", 3)


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (None, None, None),
        (None, A, NetworkChange.UP),
        (A, None, NetworkChange.DOWN),
        (A, A, None),
        (A, Path("192.0.2.10", "10.8.0.2", 3), NetworkChange.ROUTE_CHANGED),
        (A, Path("192.0.2.10", "10.9.0.2", 4), NetworkChange.ROUTE_CHANGED),
        (A, Path("2001:db8::1", "2001:db8::2", 3), NetworkChange.ROUTE_CHANGED),
        (A, Path("192.0.2.10", "10.9.0.2", None), None),  # interface unknown: no claim
    ],
)
def test_change_between(before: Path | None, after: Path | None, change: NetworkChange) -> None:
    """Reachability gained or lost is UP or DOWN; another source or interface is a route
    change; the same path is nothing."""
    assert change_between(before, after) == change


def test_numeric_targets_need_no_lookup_and_names_are_left_alone() -> None:
    """IP literals become targets at once; a name (or nonsense) is for the resolver."""
    assert numeric_targets("127.0.0.1") == [(socket.AF_INET, ("127.0.0.1", 9))]
    assert numeric_targets("::1") == [(socket.AF_INET6, ("::1", 9, 0, 0))]
    for name in ("localhost", "server.example", "", "1.2.3.4.5", "x" * 300, "\udcff"):
        assert numeric_targets(name) is None


def test_probe_of_loopback_uses_lo() -> None:
    """The kernel routes 127.0.0.1 through ``lo`` from 127.0.0.1."""
    path = probe([(socket.AF_INET, ("127.0.0.1", 9))])
    assert path == Path("127.0.0.1", "127.0.0.1", socket.if_nametoindex("lo"))


def test_probe_of_no_address_is_none() -> None:
    """No server address (the name did not resolve) is no path."""
    assert probe([]) is None
