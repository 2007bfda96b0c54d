"""The netlink watcher against the real kernel: a child process in a private namespace
watches the path to a server while the test changes links, addresses and routes."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .rig import Child, Topology, cpu_ns, cpu_ticks, run

pytestmark = pytest.mark.netns

SERVER = "10.9.0.1"  # the peer's end of ``va``: its route comes back with the link
FAR_SERVER = "192.0.2.10"  # behind a gateway, on the peer's loopback
QUIET = 1.0  # long enough for any report a change would cause (settle is 75 ms)


@pytest.fixture
async def topo() -> AsyncIterator[Topology]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (ip netns, veth)")
    topology = Topology()
    try:
        await topology.up()
        yield topology
    finally:
        await topology.down()


@pytest.fixture
async def children() -> AsyncIterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        await child.close()


async def watch(
    topo: Topology,
    children: list[Child],
    tmp_path: Path,
    host: str,
    raising: bool = False,
) -> Child:
    stderr = tmp_path / f"child{len(children)}.stderr"
    child = await Child.start(topo, host, stderr, raising=raising)
    children.append(child)
    return child


async def test_link_down_reports_down_and_up_reports_up_quickly(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """Taking the client's only link down is DOWN; bringing it back is UP within 300 ms."""
    child = await watch(topo, children, tmp_path, SERVER)
    await asyncio.sleep(0.2)
    assert child.changes() == []  # the path at start is the baseline, not a report

    mark = child.mark()
    await topo.ip("link set va down")
    assert await child.change(mark) == "down"

    latencies = []
    for _ in range(3):
        await asyncio.sleep(0.3)
        mark = child.mark()
        began = time.monotonic()
        await topo.ip("link set va up")
        assert await child.change(mark) == "up"
        latencies.append(child.changes(mark)[0]["t"] - began)
        mark = child.mark()
        await topo.ip("link set va down")
        assert await child.change(mark) == "down"
    print(f"link up -> UP report: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)}")
    assert min(latencies) < 0.3
    assert max(latencies) < 1.0  # generous: two noisy cores shared with other tests


async def test_route_and_address_removal_and_return(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """A server behind a gateway goes DOWN with its route or the source address and comes
    back UP with them."""
    await topo.peer_ip(f"addr add {FAR_SERVER}/32 dev lo")
    await topo.ip("route add 192.0.2.0/24 via 10.9.0.1")
    child = await watch(topo, children, tmp_path, FAR_SERVER)

    mark = child.mark()
    await topo.ip("route del 192.0.2.0/24 via 10.9.0.1")
    assert await child.change(mark) == "down"
    mark = child.mark()
    await topo.ip("route add 192.0.2.0/24 via 10.9.0.1")
    assert await child.change(mark) == "up"

    mark = child.mark()
    await topo.ip("addr del 10.9.0.2/24 dev va")  # takes the connected and gateway routes
    assert await child.change(mark) == "down"
    mark = child.mark()
    await topo.ip("addr add 10.9.0.2/24 dev va")
    await topo.ip("route add 192.0.2.0/24 via 10.9.0.1")
    assert await child.change(mark) == "up"
    await asyncio.sleep(QUIET)
    assert [e["change"] for e in child.changes(mark)] == ["up"]


async def test_an_ipv6_server_goes_down_and_up_with_its_route(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """The same for an IPv6 server: its route removed is DOWN, back is UP."""
    await topo.peer_ip("addr add fd00:9::1/64 dev pva nodad")
    await topo.ip("addr add fd00:9::2/64 dev va nodad")
    child = await watch(topo, children, tmp_path, "fd00:9::1")
    mark = child.mark()
    await topo.ip("-6 route del fd00:9::/64 dev va")
    assert await child.change(mark) == "down"
    mark = child.mark()
    await topo.ip("-6 route add fd00:9::/64 dev va")
    assert await child.change(mark) == "up"


async def test_a_burst_of_flaps_is_a_handful_of_reports(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """20 down/up flaps within about 2 s are coalesced; the last word is UP."""
    child = await watch(topo, children, tmp_path, SERVER)
    mark = child.mark()
    began = time.monotonic()
    for _ in range(20):
        await topo.ip("link set va down")
        await asyncio.sleep(0.04)
        await topo.ip("link set va up")
        await asyncio.sleep(0.04)
    took = time.monotonic() - began
    await asyncio.sleep(QUIET)
    reports = [e["change"] for e in child.changes(mark)]
    print(f"20 flaps in {took:.2f} s -> {len(reports)} reports {reports}")
    assert len(reports) <= 6
    assert reports == ["down", "up"] * (len(reports) // 2)  # alternating, ends reachable


async def test_a_more_specific_route_elsewhere_is_a_route_change(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """A second link with a more specific route to the server is ROUTE_CHANGED, whether it
    changes the source address or only the interface; removing it is another one."""
    await topo.peer_ip(f"addr add {FAR_SERVER}/32 dev lo")
    await topo.ip("route add 192.0.2.0/24 via 10.9.0.1")
    await topo.veth("vb", "10.8.0")
    child = await watch(topo, children, tmp_path, FAR_SERVER)

    mark = child.mark()
    await topo.ip(f"route add {FAR_SERVER}/32 via 10.8.0.1")  # source 10.9.0.2 -> 10.8.0.2
    assert await child.change(mark) == "route_changed"
    mark = child.mark()
    await topo.ip(f"route del {FAR_SERVER}/32 via 10.8.0.1")
    assert await child.change(mark) == "route_changed"

    mark = child.mark()
    await topo.ip(f"route add {FAR_SERVER}/32 via 10.8.0.1 src 10.9.0.2")  # same source
    assert await child.change(mark) == "route_changed"
    await asyncio.sleep(QUIET)
    assert [e["change"] for e in child.changes(mark)] == ["route_changed"]


async def test_an_unrelated_interface_changing_is_no_report(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """Another interface appearing, flapping, getting addresses and routes, and going away
    leaves the route to the server alone: nothing is reported."""
    child = await watch(topo, children, tmp_path, SERVER)
    mark = child.mark()
    await topo.ip("link add u0 type veth peer name u1")
    for _ in range(3):
        await topo.ip("link set u0 up")
        await topo.ip("link set u1 up")
        await topo.ip("link set u0 down")
    await topo.ip("addr add 10.7.0.2/24 dev u1")
    await topo.ip("route add 198.51.100.0/24 dev u1")
    await topo.ip("addr add fd00:7::2/64 dev u1")
    await topo.ip("link del u0")
    await asyncio.sleep(QUIET)
    assert child.changes(mark) == []


async def test_idle_watcher_uses_no_cpu(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """Watching for 2 s with nothing changing costs (almost) no CPU time."""
    child = await watch(topo, children, tmp_path, SERVER)
    await asyncio.sleep(0.5)  # let start-up work finish
    hz = os.sysconf("SC_CLK_TCK")
    before, before_ns = cpu_ticks(child.pid), cpu_ns(child.pid)
    await asyncio.sleep(2.0)
    used, used_ns = cpu_ticks(child.pid) - before, cpu_ns(child.pid) - before_ns
    print(f"idle CPU over 2 s: {used} ticks at {hz} Hz, {used_ns / 1e6:.3f} ms on CPU")
    assert used <= 2  # one tick is 10 ms: a polling loop would show far more


async def test_stop_leaves_no_fd_and_no_report(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """``stop`` closes the netlink socket; nothing is reported after it; stopping twice and
    starting twice are harmless, and a restarted watch reports again."""
    child = await watch(topo, children, tmp_path, SERVER)
    ready = child.first("ready")
    assert ready["fds_started"] == ready["fds_before"] + 1  # the netlink socket, nothing else

    mark = child.mark()
    await child.send("stop")
    await child.send("stop")
    stopped = await child.wait("stopped", mark)
    assert stopped["fds"] == ready["fds_before"]
    await topo.ip("link set va down")
    await asyncio.sleep(QUIET)
    assert child.changes(mark) == []

    mark = child.mark()
    await child.send("start")
    await child.send("start")
    await child.wait("started", mark)
    await asyncio.sleep(0.2)
    assert [e["fds"] for e in child.events[mark:] if e["type"] == "started"] == [
        ready["fds_started"]
    ] * 2
    await topo.ip("link set va up")
    assert await child.change(mark) == "up"
    mark = child.mark()
    await child.send("quit")
    bye = await child.wait("bye", mark)
    assert bye["fds"] == ready["fds_before"]


async def test_a_raising_callback_does_not_stop_the_watch(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """A callback that raises is logged and the next change is still reported."""
    child = await watch(topo, children, tmp_path, SERVER, raising=True)
    mark = child.mark()
    await topo.ip("link set va down")
    assert await child.change(mark) == "down"
    mark = child.mark()
    await topo.ip("link set va up")
    assert await child.change(mark) == "up"
    assert "ptt.network.callback_failed" in child.stderr.read_text()


async def test_a_name_that_resolves_only_later_is_up_on_the_next_change(
    topo: Topology, children: list[Child], tmp_path: Path
) -> None:
    """A host name that cannot be resolved at start counts as unreachable; it is looked up
    again on the next network change and then reported UP."""
    etc = Path("/etc/netns") / topo.client  # ``ip netns exec`` mounts these over /etc
    etc.mkdir(parents=True)
    try:
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        hosts = etc / "hosts"
        hosts.write_text("127.0.0.1 localhost\n")
        child = await watch(topo, children, tmp_path, "server.ptt.test")
        await asyncio.sleep(QUIET)  # the first lookup fails
        with hosts.open("a") as again:  # in place: the bind mount keeps this inode
            again.write(f"{SERVER} server.ptt.test\n")
        mark = child.mark()
        await topo.ip("addr add 10.6.0.2/24 dev lo")  # any change
        assert await child.change(mark) == "up"
        mark = child.mark()
        await topo.ip("link set va down")
        assert await child.change(mark) == "down"
    finally:
        await run("rm", "-rf", str(etc))
