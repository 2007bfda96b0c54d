"""Start and stop of the watchers in this process (no namespace, nothing changed on the
host): resources, misuse and the fallback."""

from __future__ import annotations

import asyncio
import os

import pytest
from structlog.testing import capture_logs

from adapters.devices.network import (
    NetlinkNetworkWatch,
    NullNetworkWatch,
    default_network_watch,
    rtnetlink,
)
from fsm.ports import NetworkChange, NetworkWatch


class Recorder:
    def __init__(self) -> None:
        self.changes: list[NetworkChange] = []

    def changed(self, change: NetworkChange) -> None:
        self.changes.append(change)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_both_watchers_are_network_watches() -> None:
    """The netlink and the null watcher satisfy the port."""
    assert isinstance(NetlinkNetworkWatch(), NetworkWatch)
    assert isinstance(NullNetworkWatch(), NetworkWatch)


def test_default_is_netlink_on_linux() -> None:
    """On Linux with netlink available the default watcher is the netlink one."""
    assert isinstance(default_network_watch(), NetlinkNetworkWatch)


def test_default_falls_back_when_netlink_cannot_be_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox that refuses netlink gets the null watcher and one debug line."""

    def refused() -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rtnetlink, "open_monitor", refused)
    with capture_logs() as logs:
        assert isinstance(default_network_watch(), NullNetworkWatch)
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("ptt.network.netlink_unavailable", "debug")
    ]


async def test_start_without_netlink_logs_and_stays_inert(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the socket cannot be opened at start, the watcher warns and does nothing."""

    def refused() -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rtnetlink, "open_monitor", refused)
    watcher, fds = NetlinkNetworkWatch(), open_fds()
    with capture_logs() as logs:
        watcher.start("127.0.0.1", Recorder())
    watcher.stop()
    assert [e["event"] for e in logs] == ["ptt.network.unavailable"]
    assert open_fds() == fds


def test_settle_must_be_positive_and_bounded() -> None:
    """A zero settle (no coalescing) or one longer than its bound is refused."""
    for settle, bound in ((0.0, 1.0), (-1.0, 1.0), (0.5, 0.1)):
        with pytest.raises(ValueError, match="settle"):
            NetlinkNetworkWatch(settle=settle, max_settle=bound)


async def test_start_and_stop_twice_leave_nothing_behind() -> None:
    """Start twice holds one socket; stop twice closes it; no task is left."""
    watcher, events, fds = NetlinkNetworkWatch(), Recorder(), open_fds()
    tasks = asyncio.all_tasks()
    watcher.start("127.0.0.1", events)
    watcher.start("127.0.0.1", events)
    assert open_fds() == fds + 1
    watcher.stop()
    watcher.stop()
    assert open_fds() == fds
    await asyncio.sleep(0.2)
    assert asyncio.all_tasks() == tasks
    assert events.changes == []  # never a synchronous report of the baseline


@pytest.mark.parametrize("host", ["", "server.invalid", "x" * 300, "1.2.3.4.5", "::::"])
async def test_a_host_that_does_not_resolve_is_no_crash(host: str) -> None:
    """A name that fails to resolve (or is no name) is no error; stop cleans up."""
    watcher, fds = NetlinkNetworkWatch(), open_fds()
    tasks = asyncio.all_tasks()
    watcher.start(host, Recorder())
    await asyncio.sleep(0.3)  # the lookup fails (or is still running: stop cancels it)
    watcher.stop()
    await asyncio.sleep(0)
    assert open_fds() == fds
    assert {t for t in asyncio.all_tasks() if not t.done()} == tasks


async def test_stop_cancels_a_lookup_in_progress() -> None:
    """Stopping while the name is being looked up leaves no task running."""
    watcher = NetlinkNetworkWatch()
    watcher.start("localhost", Recorder())
    lookups = asyncio.all_tasks() - {asyncio.current_task()}
    assert len(lookups) == 1
    watcher.stop()
    await asyncio.sleep(0)
    assert all(t.done() for t in lookups)


def test_null_watch_is_a_no_op() -> None:
    """The null watcher accepts start and stop and reports nothing."""
    null, events = NullNetworkWatch(), Recorder()
    null.start("server", events)
    null.stop()
    null.stop()
    assert events.changes == []
