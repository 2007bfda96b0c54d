"""What a closed client must not leave behind: asyncio tasks and sockets of this process.

The server may run in the same process; a snapshot taken before the client existed and
compared after a settle, with the client's session ended (``leave``), sees only what the
client (or the server's side of its connection, which must end too) left running."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any


def _sockets() -> frozenset[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # an fd closed while we list
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:"):
                found.add(target)
    return frozenset(found)


def _tasks() -> frozenset[asyncio.Task[Any]]:
    return frozenset(t for t in asyncio.all_tasks() if not t.done())


@dataclass(frozen=True)
class Resources:
    """The live tasks and open sockets of this process at one moment."""

    tasks: frozenset[asyncio.Task[Any]]
    sockets: frozenset[str]

    @classmethod
    def now(cls) -> Resources:
        return cls(_tasks(), _sockets())

    def added_since(self, before: Resources) -> list[str]:
        """What exists now and did not at ``before``, as readable lines."""
        lines = [f"task {_describe(t)}" for t in self.tasks - before.tasks]
        lines += [f"socket {s}" for s in sorted(self.sockets - before.sockets)]
        return lines


async def leftovers(before: Resources, settle: float) -> list[str]:
    """Wait up to ``settle`` seconds for everything added since ``before`` to go; return
    what is still there (empty when clean)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + settle
    while True:
        added = Resources.now().added_since(before)
        if not added or loop.time() >= end:
            return added
        await asyncio.sleep(0.05)


def _describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
    return f"{task.get_name()} {getattr(coro, '__qualname__', coro)!s}{where}"
