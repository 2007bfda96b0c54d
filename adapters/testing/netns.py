"""A client's own network, for real: a private network namespace joined to the host by a
veth pair, whose link, routes and firewall a test or the demo changes at will.

The server stays in the host's namespace and listens on the host end of the veth
(:attr:`ClientNamespace.server_address`); the client runs inside the namespace (see
:mod:`.netclient`). Deleting the namespace removes the veth pairs and the iptables rules
with it, so :meth:`ClientNamespace.close` is the one cleanup. Linux and root only
(:func:`netns_unavailable` says why not).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import os
import random
import shutil
import subprocess
import sys
import time

CLIENT_LINK, SECOND_LINK = "net0", "net1"  # names inside the namespace: fixed, it is private
POOL = ipaddress.IPv4Network("10.214.0.0/16")  # /30 per veth; other suites use 10.213/16
_serial = itertools.count()


def netns_unavailable(firewall: bool = False) -> str | None:
    """Why this host cannot run a client in a namespace (``None``: it can). ``firewall``
    also asks for ``iptables`` (the dead-path scenarios)."""
    if sys.platform != "linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    if firewall and shutil.which("iptables") is None:
        return "needs iptables"
    return None


async def run(*argv: str, check: bool = True) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode().strip()}")


def _free_subnets(count: int) -> list[ipaddress.IPv4Network]:
    """``count`` /30s of :data:`POOL` that no address on the host overlaps (picked at
    random, so concurrent runs rarely race for the same one)."""
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    used = [ipaddress.ip_interface(w).network for w in shown.split() if "/" in w and "." in w]
    chosen: list[ipaddress.IPv4Network] = []
    while len(chosen) < count:
        offset = random.randrange(POOL.num_addresses // 4) * 4
        subnet = ipaddress.IPv4Network(f"{POOL.network_address + offset}/30")
        if not any(subnet.overlaps(u) for u in used) and subnet not in chosen:
            chosen.append(subnet)
    return chosen


class ClientNamespace:
    """Namespace ``name`` with veth ``net0`` (``client_address``) to the host end
    ``host_link`` (``server_address``); :meth:`add_second_path` adds ``net1``."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}x{next(_serial)}"
        self.name = f"ptt-net-{tag}"
        self.host_link, self.second_host_link = f"pn{tag}a", f"pn{tag}b"
        first, second = _free_subnets(2)
        self.server_address, self.client_address = (str(a) for a in first.hosts())
        self.second_host_address, self.second_client_address = (str(a) for a in second.hosts())

    async def __aenter__(self) -> ClientNamespace:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        await self.close()  # a leftover of a killed run with the same pid
        await run("ip", "netns", "add", self.name)
        try:
            await self.ip("link set lo up")
            await self._veth(self.host_link, CLIENT_LINK, self.server_address, self.client_address)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Delete the namespace (its veths and firewall go with it); safe to repeat."""
        await run("ip", "netns", "del", self.name, check=False)
        for link in (self.host_link, self.second_host_link):  # normally gone already
            await run("ip", "link", "del", link, check=False)

    async def _veth(self, host_link: str, inside: str, host_address: str, address: str) -> None:
        await run(
            *f"ip link add {host_link} type veth peer name {inside} netns {self.name}".split()
        )
        await run(*f"ip addr add {host_address}/30 dev {host_link}".split())
        await run(*f"ip link set {host_link} up".split())
        await self.ip(f"addr add {address}/30 dev {inside}")
        await self.ip(f"link set {inside} up")

    async def ip(self, command: str) -> float:
        """Run ``ip -n NAME COMMAND``; returns ``time.monotonic()`` taken just before, so
        an interval measured from it includes the command's own run time."""
        began = time.monotonic()
        await run("ip", "-n", self.name, *command.split())
        return began

    async def link(self, up: bool, name: str = CLIENT_LINK) -> float:
        """Set the client's link up or down; returns when the command began."""
        return await self.ip(f"link set {name} {'up' if up else 'down'}")

    async def add_second_path(self) -> None:
        """A second veth (``net1``) to the host. Nothing routes to the server over it yet:
        its connected route covers only its own /30."""
        await self._veth(
            self.second_host_link, SECOND_LINK, self.second_host_address, self.second_client_address
        )

    async def route_server_via_second_path(self) -> float:
        """A /32 to the server over ``net1``: more specific than ``net0``'s /30, so the
        kernel moves the path (new interface, new source address). Returns when it began."""
        return await self.ip(
            f"route add {self.server_address}/32 via {self.second_host_address} dev {SECOND_LINK}"
        )

    async def blackhole_first_path(self) -> None:
        """Silently drop everything arriving on ``net0`` (no RST, no ICMP, nothing sent
        fails): the established connection is dead and only a probe or keepalive finds out."""
        await run(*f"ip netns exec {self.name} iptables -A INPUT -i {CLIENT_LINK} -j DROP".split())

    def exec_argv(self, *argv: str) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]
