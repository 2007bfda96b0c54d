"""Real-kernel rig for the watcher: two private network namespaces and the watcher in a
child process inside one of them.

``client`` (where the watcher runs) and ``peer`` (where the server's addresses live) are
joined by veth ``va`` (10.9.0.2 <-> 10.9.0.1). Nothing is added to the host's own
namespace, so names inside the namespaces can be fixed; the namespace names carry the
pid and a counter so parallel runs and leftovers of killed runs do not collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

CHILD = Path(__file__).with_name("watcher_child.py")
REPO = Path(__file__).resolve().parents[2]
WAIT = 5.0  # anything that should happen "soon" on a loaded 2-core machine
_serial = itertools.count()


async def run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}): {err.decode()}")


class Topology:
    def __init__(self) -> None:
        tag = f"pttnw-{os.getpid()}-{next(_serial)}"
        self.client, self.peer = f"{tag}-c", f"{tag}-p"

    async def up(self) -> None:
        await self.down()
        await run("ip", "netns", "add", self.client)
        await run("ip", "netns", "add", self.peer)
        await self.veth("va", "10.9.0")
        await self.peer_ip("link set lo up")
        await self.ip("link set lo up")

    async def veth(self, name: str, subnet: str) -> None:
        """A veth pair ``name`` (client side ``subnet.2``) to ``p<name>`` (``subnet.1``)."""
        await self.ip(f"link add {name} type veth peer name p{name} netns {self.peer}")
        await self.ip(f"addr add {subnet}.2/24 dev {name}")
        await self.peer_ip(f"addr add {subnet}.1/24 dev p{name}")
        await self.peer_ip(f"link set p{name} up")
        await self.ip(f"link set {name} up")

    async def ip(self, command: str) -> None:
        await run("ip", "-n", self.client, *command.split())

    async def peer_ip(self, command: str) -> None:
        await run("ip", "-n", self.peer, *command.split())

    async def down(self) -> None:
        for name in (self.client, self.peer):
            with contextlib.suppress(AssertionError):  # not there: nothing to clean
                await run("ip", "netns", "del", name)


class Child:
    """The watcher process; ``events`` holds its JSON lines in order."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc = proc
        self.stderr = stderr
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, topo: Topology, host: str, stderr: Path, settle: float = 0.075, raising: bool = False
    ) -> Child:
        pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        argv = [sys.executable, str(CHILD), host, str(settle), *(["raise"] if raising else [])]
        with stderr.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                "ip", "netns", "exec", topo.client, *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *pythonpath])},
            )  # fmt: skip
        child = cls(proc, stderr)
        await child.wait("ready", within=20)  # a cold interpreter on a busy machine
        return child

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))

    @property
    def pid(self) -> int:
        return int(self.first("ready")["pid"])

    def first(self, kind: str, since: int = 0) -> dict[str, Any]:
        found = next((e for e in self.events[since:] if e["type"] == kind), None)
        assert found is not None, f"no {kind}"
        return found

    def changes(self, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.events[since:] if e["type"] == "change"]

    def mark(self) -> int:
        return len(self.events)

    async def wait(self, kind: str, since: int = 0, within: float = WAIT) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event in self.events[since:]:
                if event["type"] == kind:
                    return event
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.005)
        tail = self.stderr.read_text()[-2000:]
        raise AssertionError(f"no {kind} within {within} s; saw {self.events[since:]}\n{tail}")

    async def change(self, since: int, within: float = WAIT) -> str:
        return str((await self.wait("change", since, within))["change"])

    async def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self.send("quit")
            try:
                async with asyncio.timeout(WAIT):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._reader


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks (``/proc/PID/stat`` fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid: int) -> int:
    """Nanoseconds on a CPU of all threads of ``pid`` (``schedstat``: finer than ticks)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/schedstat") as stat:
            total += int(stat.read().split()[0])
    return total
