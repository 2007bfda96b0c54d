"""The port rules a recorder can check on every callback, whatever the case is about.

From :mod:`fsm.ports`: never call a callback synchronously from inside the port method,
call callbacks on the event loop thread only, nothing after ``close()``. A broken rule is
noted here and reported when the case ends, so one case shows every rule it broke."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


class Rules:
    """The rule book of one client: which port call is running, what was broken."""

    def __init__(self, client: str) -> None:
        self.client = client
        self.violations: list[str] = []
        self._thread = threading.get_ident()
        self._inside: str | None = None

    @contextlib.contextmanager
    def port_call(self, method: str) -> Iterator[None]:
        """Mark ``method`` as running, so a callback from inside it is caught."""
        self._inside = method
        try:
            yield
        finally:
            self._inside = None

    def callback(self, what: str) -> None:
        """Check a callback as it is called."""
        if self._inside is not None:
            self.broken(f"{what} was called synchronously inside {self._inside}()")
        if threading.get_ident() != self._thread:
            self.broken(f"{what} was called off the event loop thread")
        else:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self.broken(f"{what} was called with no running event loop")

    def broken(self, message: str) -> None:
        self.violations.append(f"{self.client}: {message}")
