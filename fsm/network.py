"""The network watcher's reports as transition actions: back the moment the network is.

While backing off, a report that the path to the server came back (or moved) skips the
rest of the wait: the attempt starts at once. While connected, any change of the path
triggers an immediate liveness probe, so a link that died with the old path is found in
about one round trip instead of at the next keepalive. Never faster than
``Settings.network_hint_interval`` (a flapping interface causes at most a few attempts),
and never through a server's Retry-After: the server asked us to wait. A report that
comes too soon is replayed when the interval has passed (a flap still ends the wait).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .bindings import _NetworkBinding
from .events import Reconnecting
from .messages import MessageActions
from .ports import NetworkChange

#: The ``cause`` of a ``Reconnecting`` event whose attempt the network watcher started.
NETWORK_CAME_BACK = "network came back"


class NetworkActions(MessageActions):
    # --- guards (pure) ----------------------------------------------------------------------
    def network_came_back(self, change: NetworkChange | None = None) -> bool:
        return self._usable_hint(change) and self._hint_allowed(self.ports.clock.now())

    def network_back_too_soon(self, change: NetworkChange | None = None) -> bool:
        """A flap right after the last attempt: not now, but not lost either."""
        return self._usable_hint(change) and not self._hint_allowed(self.ports.clock.now())

    def _usable_hint(self, change: NetworkChange | None) -> bool:
        if change not in (NetworkChange.UP, NetworkChange.ROUTE_CHANGED):
            return False
        now = self.ports.clock.now()
        # The server's Retry-After stands: its own timer ends the wait.
        return self._retry_not_before is None or now >= self._retry_not_before

    def path_may_have_moved(self, change: NetworkChange | None = None) -> bool:
        return isinstance(change, NetworkChange) and self._hint_allowed(self.ports.clock.now())

    def _hint_allowed(self, now: float) -> bool:
        last = self._last_network_hint
        return last is None or now - last >= self.settings.network_hint_interval

    # --- actions ----------------------------------------------------------------------------
    def note_network_hint(self) -> None:
        self._last_network_hint = self.ports.clock.now()
        self.metrics["network_attempts"] += 1
        self.reason = NETWORK_CAME_BACK
        self._emit(Reconnecting(self.attempt, 0.0, NETWORK_CAME_BACK))

    def defer_hint(self, change: NetworkChange | None = None) -> None:
        """Replay the report once the interval since the last attempt has passed, so a
        network that came back during a flap still cuts the wait short."""
        last = self._last_network_hint or 0.0
        wait = max(0.0, last + self.settings.network_hint_interval - self.ports.clock.now())
        if "network_hint" not in self._timers:
            self._arm("network_hint", wait, "network_changed", change=change)

    def probe_link(self) -> None:
        self._last_network_hint = self.ports.clock.now()
        self.metrics["network_probes"] += 1
        self.ports.signaling.probe(self.settings.probe_timeout)

    def _start_network_watch(self) -> None:
        network = self.ports.network
        if network is None or self._network_watching:
            return
        host = urlsplit(self.settings.url).hostname or ""
        self._network_watching = True
        network.start(host, _NetworkBinding(self, self._bump("network")))

    def _stop_network_watch(self) -> None:
        network = self.ports.network
        if network is not None and self._network_watching:
            self._network_watching = False
            self._bump("network")
            network.stop()
