"""What the bench's child processes share: stdout is their command channel (one JSON
object a line each way), so logs go to stderr and only errors; many sockets, so the fd
limit is raised."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

#: A command's handler: its JSON object in, the answer's JSON object out.
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def quiet_child() -> None:
    """stdout is the command channel: logs go to stderr, and only errors."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
    raise_fd_limit()


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve_commands(handlers: dict[str, Handler], stop: Callable[[], Awaitable[None]]) -> None:
    """Answer each command read from stdin with its handler's answer; any other command
    (or the end of stdin) stops: ``stop()``, then an empty answer."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        handler = handlers.get(command["cmd"])
        if handler is None:
            await stop()
            print(json.dumps({}), flush=True)
            break
        print(json.dumps(await handler(command)), flush=True)
