"""The token port: wraps the app's ``async def provider() -> str`` for the machine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fsm.errors import AuthError
from fsm.logs import get_logger
from fsm.ports import Reply, Result

log = get_logger("ptt.tokens")

TokenProvider = Callable[[], Awaitable[str]]


class ProviderTokens:
    """``fsm.ports.TokenSource``: runs the provider as a task, reports the new token."""

    def __init__(self, provider: TokenProvider) -> None:
        self._provider = provider
        self._task: asyncio.Task[None] | None = None

    def refresh(self, reply: Reply) -> None:
        self.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run(reply))

    async def _run(self, reply: Reply) -> None:
        try:
            token = await self._provider()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the app's code: any failure means "no new token"
            log.warning("ptt.tokens.refresh_failed", error=type(exc).__name__)
            reply(Result(error=AuthError(f"token provider failed: {type(exc).__name__}")))
            return
        if not isinstance(token, str) or not token:
            reply(Result(error=AuthError("token provider returned no token")))
            return
        reply(Result(value=token))

    def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
