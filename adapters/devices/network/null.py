"""A ``NetworkWatch`` that never reports: for platforms without a watcher, and for tests."""

from __future__ import annotations

from fsm.ports import NetworkEvents


class NullNetworkWatch:
    """Reports nothing; the machine then relies on its backoff alone."""

    def start(self, host: str, events: NetworkEvents) -> None:
        pass

    def stop(self) -> None:
        pass
