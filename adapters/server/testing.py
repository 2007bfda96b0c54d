"""A protocol-level test client for the reference server (or any server speaking ptt.v1).

It sends numbered requests, collects notifications and reports the close code, and it
sends whatever it is told to, so tests can play a well-behaved client or a hostile one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .auth import mint_token

__all__ = ["RawClient", "bearer"]


def bearer(secret: str, user: str, channel: str, ttl: float = 60.0) -> dict[str, str]:
    """Handshake headers carrying a freshly minted token."""
    return {"Authorization": f"Bearer {mint_token(secret, user, channel, ttl)}"}


class RawClient:
    """A test client: numbered requests, collected notifications, the close code."""

    def __init__(self, ws: ClientConnection, *, timeout: float = 2.0) -> None:
        self.ws = ws
        self.timeout = timeout
        self.notes: list[dict[str, Any]] = []
        self.unaddressed: list[dict[str, Any]] = []  # responses with id null or unknown
        self.raw: list[str | bytes] = []  # frames that are not JSON objects
        self.joined: dict[str, Any] = {}  # set by :meth:`join`
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, headers: dict[str, str], **kwargs: Any) -> RawClient:
        return cls(await connect(url, additional_headers=headers, **kwargs))

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                msg = _object(frame)
                if msg is None:
                    self.raw.append(frame)
                elif msg.get("notification"):
                    self.notes.append(msg)
                elif msg.get("id") in self._pending:
                    self._pending.pop(msg["id"]).set_result(msg)
                else:
                    self.unaddressed.append(msg)
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            for fut in self._pending.values():
                fut.cancel()
            self._arrived.set()

    async def send(self, method: str, data: Any = None, *, rid: Any = None) -> dict[str, Any]:
        """Send a request and return the whole response."""
        rid = next(self._ids) if rid is None else rid
        fut = self._pending[rid] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"id": rid, "method": method, "data": data or {}}))
        return await asyncio.wait_for(fut, self.timeout)

    async def ok(self, method: str, data: Any = None) -> dict[str, Any]:
        """Send a request that must succeed; return its data."""
        response = await self.send(method, data)
        if response.get("ok") is not True:
            raise AssertionError(f"{method} failed: {response}")
        result: dict[str, Any] = response["data"]
        return result

    async def error(self, method: str, data: Any = None) -> str:
        """Send a request that must fail; return its error code."""
        response = await self.send(method, data)
        if response.get("ok") is not False:
            raise AssertionError(f"{method} succeeded: {response}")
        code: str = response["error"]["code"]
        return code

    async def join(self, channel: str, session_id: str | None = None) -> dict[str, Any]:
        data = {"channel": channel}
        if session_id is not None:
            data["session_id"] = session_id
        self.joined = await self.ok("join", data)
        return self.joined

    async def wait_for(self, predicate: Callable[[], bool], within: float | None = None) -> None:
        """Wait until ``predicate()`` holds, re-checking as frames arrive."""
        async with asyncio.timeout(self.timeout if within is None else within):
            while not predicate():
                self._arrived.clear()
                if predicate():
                    return
                await self._arrived.wait()

    def find(self, method: str, **match: Any) -> dict[str, Any] | None:
        """The data of the first notification ``method`` whose data includes ``match``."""
        for note in self.notes:
            data: dict[str, Any] = note["data"]
            if note["method"] == method and all(data.get(k) == v for k, v in match.items()):
                return data
        return None

    async def note(self, method: str, within: float | None = None, **match: Any) -> dict[str, Any]:
        """Like :meth:`find`, waiting for the notification to arrive."""
        await self.wait_for(lambda: self.find(method, **match) is not None, within)
        found = self.find(method, **match)
        assert found is not None
        return found

    def methods(self) -> list[str]:
        """Notification methods received so far, in order."""
        return [note["method"] for note in self.notes]

    async def closed(self, within: float | None = None) -> int | None:
        """Wait for the connection to close; return the close code the server sent."""
        await asyncio.wait_for(asyncio.shield(self._reader), within or self.timeout)
        return self.ws.close_code

    async def aclose(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _object(frame: str | bytes) -> dict[str, Any] | None:
    try:
        msg = json.loads(frame)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None
