"""The herd's far end in its own process: the reference server behind a fault proxy.

Run by :mod:`.herd` as ``python -m adapters.bench.serverside``; one JSON command a line
on stdin, one JSON answer a line on stdout. Commands: ``crash`` (reset every connection,
refuse new ones for ``seconds``, then pass again), ``restart`` (a graceful restart: 1012
with a per-client restart hint, the server back ``seconds`` later on the same port),
``handshakes`` (what the server answered since ``since``, as ``[t, outcome]``), ``quit``.
Times are ``time.monotonic()``, which is system-wide on Linux: the orchestrator compares
them with its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from adapters.server import PttServer
from adapters.server.gate import HandshakeLimit
from adapters.testing.faultproxy import FaultProxy

from .child import Handler, quiet_child, serve_commands


class ServerSide:
    def __init__(self, secret: str, members: int, shed: bool) -> None:
        self.secret, self.members, self.shed = secret, members, shed
        self.handshakes: list[tuple[float, str]] = []
        self.server: PttServer | None = None
        self.proxy: FaultProxy | None = None

    async def start_server(self, port: int = 0) -> PttServer:
        limit = HandshakeLimit() if self.shed else HandshakeLimit(max_in_flight=0)
        server = PttServer(
            self.secret,
            port=port,
            max_members=self.members,
            max_rps=1000,
            handshake_limit=limit,
        )
        server.watch_handshakes(lambda outcome: self.handshakes.append((time.monotonic(), outcome)))
        await server.start()
        self.server = server
        return server

    async def start(self) -> str:
        server = await self.start_server()
        self.proxy = FaultProxy("127.0.0.1", server.port)
        await self.proxy.start()
        return self.proxy.url_for("/ptt")

    async def crash(self, seconds: float) -> dict[str, Any]:
        assert self.proxy is not None
        fault = time.monotonic()
        self.proxy.reset_now()
        self.proxy.refuse()
        await asyncio.sleep(seconds)
        self.proxy.pass_through()
        return {"fault": fault, "returned": time.monotonic()}

    async def restart(self, seconds: float, spread: float) -> dict[str, Any]:
        assert self.server is not None
        fault = time.monotonic()
        port = self.server.port
        await self.server.close(restart_in=seconds, spread=spread)
        await asyncio.sleep(max(0.0, fault + seconds - time.monotonic()))
        await self.start_server(port)
        return {"fault": fault, "returned": time.monotonic()}

    def since(self, since: float) -> dict[str, Any]:
        return {"handshakes": [[t, o] for t, o in self.handshakes if t >= since]}

    async def close(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()
        if self.server is not None:
            await self.server.close()


async def _serve(args: argparse.Namespace) -> None:
    side = ServerSide(args.secret, args.members, not args.no_shed)
    url = await side.start()
    print(json.dumps({"url": url}), flush=True)

    async def since(command: dict[str, Any]) -> dict[str, Any]:
        return side.since(command["since"])

    handlers: dict[str, Handler] = {
        "crash": lambda command: side.crash(command["seconds"]),
        "restart": lambda command: side.restart(command["seconds"], command["spread"]),
        "handshakes": since,
    }
    await serve_commands(handlers, side.close)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--no-shed", action="store_true", help="no load shedding")
    args = parser.parse_args()
    quiet_child()
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
