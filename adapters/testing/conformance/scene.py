"""One case's world: a fresh channel, the clients on it, and the checks at the end.

Leaving the ``async with`` closes every client, watches for ``quiet`` seconds and then
fails the case for any port rule broken on the way (a late callback, a reply called twice
or never, a callback from inside a port call), so every case checks those too."""

from __future__ import annotations

import asyncio
from types import TracebackType

from .client import Client
from .failures import ConformanceError
from .harness import ConformanceHarness
from .replies import wait_result


class Scene:
    def __init__(self, harness: ConformanceHarness) -> None:
        self.harness = harness
        self.features = harness.backend.features
        self.capabilities = harness.capabilities
        self.channel = harness.fresh_channel()
        self.clients: list[Client] = []

    def client(self, name: str, *, media: bool = False) -> Client:
        """A client with fresh, unopened ports."""
        client = Client(self.harness, name, self.channel, media=media)
        self.clients.append(client)
        return client

    async def joined(self, name: str, *, media: bool = False) -> Client:
        """A client that opened, joined and (with ``media``) connected its media path."""
        client = self.client(name, media=media)
        await client.open()
        await client.join()
        if media:
            await client.connect_media()
        return client

    async def quiet(self) -> None:
        """Let ``capabilities.quiet`` seconds pass (to see that nothing more happens)."""
        await asyncio.sleep(self.capabilities.quiet)

    def check(self) -> None:
        """Fail now if a port rule was broken so far."""
        broken = [v for c in self.clients for v in c.rules.violations]
        if broken:
            raise ConformanceError("port rules broken:\n  " + "\n  ".join(broken))

    async def close(self) -> None:
        """Close every client, then check every rule (replies answered exactly once)."""
        for client in self.clients:
            client.close()
        await self.quiet()
        for client in self.clients:
            for pending in client.replies.replies:
                if not pending.results:
                    try:
                        await wait_result(pending.future, self.capabilities.patience, "")
                    except ConformanceError:
                        client.rules.broken(f"the {pending.what} reply was never called")
        self.check()

    async def __aenter__(self) -> Scene:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.close()
            return
        for client in self.clients:  # the case failed already: clean up, keep its error
            client.close()
