"""The watcher under test in its own process, run by ``rig.py`` inside a namespace.

Usage: ``watcher_child.py HOST SETTLE [raise]``. Writes one JSON line per fact to stdout
(``ready``, ``change`` with a ``time.monotonic()`` stamp comparable with the parent's,
``stopped``, ``started``); reads commands from stdin (``stop``, ``start``, ``quit``).
With ``raise`` the callback raises after each report (the watch must go on).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import structlog

from adapters.devices.network import NetlinkNetworkWatch
from fsm.ports import NetworkChange


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Events:
    def __init__(self, raising: bool) -> None:
        self.raising = raising

    def changed(self, change: NetworkChange) -> None:
        emit(type="change", change=change.value, t=time.monotonic())
        if self.raising:
            raise RuntimeError("the machine blew up")


async def main(host: str, settle: float, raising: bool) -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    watch = NetlinkNetworkWatch(settle=settle)
    events = Events(raising)
    before = open_fds()
    watch.start(host, events)
    emit(type="ready", pid=os.getpid(), fds_before=before, fds_started=open_fds())
    while line := (await stdin.readline()).decode().strip():
        if line == "stop":
            watch.stop()
            emit(type="stopped", fds=open_fds())
        elif line == "start":
            watch.start(host, events)
            emit(type="started", fds=open_fds())
        elif line == "quit":
            break
    watch.stop()
    emit(type="bye", fds=open_fds())


if __name__ == "__main__":
    # The library only emits; this script is an application and sends logs to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3:] == ["raise"]))
