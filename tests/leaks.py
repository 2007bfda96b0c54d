"""Leak probes shared by the end-to-end suites: what a closed client must not leave behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any


def client_sockets(port: int) -> int:
    """Open sockets of this process connected to ``127.0.0.1:port`` (the client's side).

    Read from ``/proc``: a socket the adapter closed has no file descriptor any more even
    while the kernel finishes its TCP states, so this counts leaks and nothing else.
    """
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and fields[9] in inodes:
                count += 1
    return count


def tasks_of(files: set[str]) -> list[asyncio.Task[Any]]:
    """Running tasks whose coroutine is defined in ``files`` or belongs to a websockets
    client connection: what a closed client must not leave running."""
    from websockets.asyncio.client import ClientConnection

    found = []
    for task in asyncio.all_tasks():
        if task.done():
            continue
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None)
        frame = getattr(coro, "cr_frame", None)
        owner = frame.f_locals.get("self") if frame is not None else None
        if (code is not None and code.co_filename in files) or isinstance(owner, ClientConnection):
            found.append(task)
    return found
