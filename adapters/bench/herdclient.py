"""One herd: N signaling-only clients of one variant in their own process.

Run by :mod:`.herd` as ``python -m adapters.bench.herdclient``; it reads one JSON command
a line on stdin and answers one JSON line on stdout, so the orchestrator can measure this
process's CPU and memory alone. Commands: ``connect``, ``rss``, ``mark`` (an outage is about to
start), ``returned`` (the path is back: count attempts from here), ``wait`` (until all are
connected again or the deadline), ``quit``.

Variants: ``default`` (``ExponentialBackoff``), ``fleet`` (``FleetBackoff``), and
``websockets``: the library's own ``async for ws in connect(...)`` reconnect loop plus a
``join``, the anchor every figure is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import time
from typing import Any

from websockets.asyncio.client import connect
from websockets.client import process_exception
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from adapters.backends.reference import protocol
from adapters.manager import ConnectionManager
from adapters.server import mint_token
from fsm.backoff import BackoffPolicy, ExponentialBackoff, FleetBackoff

from .child import Handler, quiet_child, serve_commands

VARIANTS = ("default", "fleet", "websockets")
#: Clients per channel. Every join is announced to the whole channel, so one channel of
#: 1,000 costs a million notifications per herd return: that measures presence fan-out,
#: not reconnecting. Real fleets are many channels.
CHANNEL_SIZE = 50


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class _Client:
    """What the herd needs of one client, whatever its variant."""

    def connected(self) -> bool:
        raise NotImplementedError

    def attempts(self) -> int:
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError


class _Managed(_Client):
    def __init__(self, url: str, token: str, channel: str, policy: BackoffPolicy) -> None:
        self.manager = ConnectionManager(
            url, channel=channel, token=token, media=False, backoff=policy, log_transitions=False
        )

    def connected(self) -> bool:
        return self.manager.state == "connected"

    def attempts(self) -> int:
        return self.manager.metrics.attempts

    async def start(self) -> None:
        await self.manager.connect()

    async def stop(self) -> None:
        await self.manager.disconnect()


class _Raw(_Client):
    """websockets' reconnect loop: retries OSError, timeouts and 5xx with its own backoff
    (U(0, 5) s, then 3.1 s x 1.618 ... up to 90 s); ignores Retry-After."""

    def __init__(self, url: str, token: str, channel: str) -> None:
        self.url, self.token, self.channel = url, token, channel
        self._connected = False
        self._attempts = 0
        self._task: asyncio.Task[None] | None = None

    def connected(self) -> bool:
        return self._connected

    def attempts(self) -> int:
        return self._attempts

    def _failed(self, exc: Exception) -> Exception | None:
        self._attempts += 1  # a connect that failed (a success is counted in _run)
        return process_exception(exc)

    async def _run(self) -> None:
        join = json.dumps({"id": 1, "method": protocol.JOIN, "data": {"channel": self.channel}})
        async for ws in connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            subprotocols=[Subprotocol(protocol.SUBPROTOCOL)],
            process_exception=self._failed,
        ):
            self._attempts += 1
            try:
                await ws.send(join)
                await ws.recv()  # the join's answer
                self._connected = True
                async for _ in ws:
                    pass
            except ConnectionClosed:
                pass
            self._connected = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def _policy(variant: str) -> BackoffPolicy:
    return FleetBackoff() if variant == "fleet" else ExponentialBackoff()


class Herd:
    def __init__(self, url: str, secret: str, variant: str, n: int) -> None:
        self.clients: list[_Client] = []
        for i in range(n):
            channel = f"herd{i // CHANNEL_SIZE}"
            token = mint_token(secret, f"{variant}{i}", channel, 3600)
            client: _Client = (
                _Raw(url, token, channel)
                if variant == "websockets"
                else _Managed(url, token, channel, _policy(variant))
            )
            self.clients.append(client)
        self._marked: list[int] = []
        self._back: list[float | None] = []
        self._watch: asyncio.Task[None] | None = None
        self._cpu0 = 0.0

    async def connect(self, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109 - a deadline
        rss0 = rss_bytes()
        await asyncio.gather(*(c.start() for c in self.clients))
        deadline = time.monotonic() + timeout
        # Polling is the measurement here: N clients, no event worth wiring for each.
        while not all(c.connected() for c in self.clients) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return {"connected": sum(c.connected() for c in self.clients), "rss0": rss0}

    def mark(self) -> dict[str, Any]:
        """An outage starts: from now on, note when each client is back."""
        self._cpu0 = time.process_time()
        self._back = [None] * len(self.clients)
        self._watch = asyncio.create_task(self._watch_back())
        return {"rss": rss_bytes()}

    async def _watch_back(self) -> None:
        down = [False] * len(self.clients)
        while True:
            now = time.monotonic()
            for i, client in enumerate(self.clients):
                if client.connected():
                    if down[i] and self._back[i] is None:
                        self._back[i] = now
                else:
                    down[i] = True
            await asyncio.sleep(0.02)  # 20 ms resolution; polling costs < 2 % of a core

    def returned(self) -> dict[str, Any]:
        self._marked = [c.attempts() for c in self.clients]
        return {}

    async def wait(self, deadline: float) -> dict[str, Any]:
        while time.monotonic() < deadline and any(t is None for t in self._back):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self._watch is not None:
            self._watch.cancel()
        cpu = time.process_time() - self._cpu0
        attempts = [c.attempts() - m for c, m in zip(self.clients, self._marked, strict=True)]
        return {"back": self._back, "attempts": attempts, "cpu": cpu, "rss": rss_bytes()}

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.clients))


async def _serve(args: argparse.Namespace) -> None:
    herd = Herd(args.url, args.secret, args.variant, args.n)

    async def rss(_: dict[str, Any]) -> dict[str, Any]:
        return {"rss": rss_bytes()}

    async def mark(_: dict[str, Any]) -> dict[str, Any]:
        return herd.mark()

    async def returned(_: dict[str, Any]) -> dict[str, Any]:
        return herd.returned()

    handlers: dict[str, Handler] = {
        "connect": lambda command: herd.connect(command["timeout"]),
        "rss": rss,
        "mark": mark,
        "returned": returned,
        "wait": lambda command: herd.wait(command["deadline"]),
    }
    await serve_commands(handlers, herd.stop)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--n", type=int, required=True)
    args = parser.parse_args()
    quiet_child()
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
