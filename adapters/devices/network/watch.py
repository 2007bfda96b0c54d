"""``NetworkWatch`` on Linux: rtnetlink notifications, coalesced, then one look at the
path to the server.

The netlink socket is read from the event loop (``add_reader``): no thread, no polling,
no CPU while nothing changes. A burst of notifications (one ``ip link set up`` is several
link, address and route messages; a flapping Wi-Fi is hundreds) re-arms a short settle
timer, bounded by ``max_settle`` so a link that never stops flapping is still looked at.
When it fires, the watcher asks the kernel for the route to the server
(:func:`~.path.probe`) and reports only what changed for the client.
"""

from __future__ import annotations

import asyncio
import errno
import socket

from fsm.logs import get_logger
from fsm.ports import NetworkChange, NetworkEvents

from . import rtnetlink
from .path import Path, Target, change_between, numeric_targets, probe

log = get_logger("ptt.network")

SETTLE = 0.075  # a kernel burst is over within a few ms; the machine debounces the rest
MAX_SETTLE = 1.0  # a link flapping without pause is still looked at once a second
DRAIN_LIMIT = 256  # datagrams read per wake-up, so a flood cannot starve the loop
DATAGRAM = 65536


class NetlinkNetworkWatch:
    """Reports :class:`~fsm.ports.NetworkChange` for the path to one server host.

    ``start`` takes the current path as the baseline (no report); afterwards UP means
    the server became reachable, DOWN unreachable, ROUTE_CHANGED that datagrams to it
    would now leave by another source address or interface. A host name is resolved once,
    in the background; if that fails the server counts as unreachable and the lookup is
    retried on each network change.
    """

    def __init__(self, *, settle: float = SETTLE, max_settle: float = MAX_SETTLE) -> None:
        if not 0 < settle <= max_settle:
            raise ValueError("need 0 < settle <= max_settle")
        self._settle = settle
        self._max_settle = max_settle
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: socket.socket | None = None
        self._events: NetworkEvents | None = None
        self._host = ""
        self._targets: list[Target] | None = None
        self._path: Path | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._burst_began: float | None = None
        self._lookup: asyncio.Task[None] | None = None

    def start(self, host: str, events: NetworkEvents) -> None:
        """Watch the path to ``host`` (call it on the running loop); starting again first
        stops the previous watch. Without netlink (a sandbox) it logs and reports nothing."""
        self.stop()
        loop = asyncio.get_running_loop()
        try:
            sock = rtnetlink.open_monitor()
        except OSError as exc:
            log.warning("ptt.network.unavailable", error=exc.strerror or str(exc))
            return
        self._loop, self._sock, self._events, self._host = loop, sock, events, host
        loop.add_reader(sock.fileno(), self._readable)
        self._targets = numeric_targets(host)
        if self._targets is None:
            self._resolve(baseline=True)
        else:
            self._path = probe(self._targets)
        log.debug("ptt.network.started", host=host, reachable=self._path is not None)

    def stop(self) -> None:
        """Stop watching: no report after this returns; the socket and timer are gone."""
        self._events = None
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        lookup, self._lookup = self._lookup, None
        if lookup is not None:
            lookup.cancel()
        self._burst_began = None
        self._targets = None
        self._path = None

    # notifications -------------------------------------------------------------------

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        changed = False
        for _ in range(DRAIN_LIMIT):
            try:
                data = sock.recv(DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # the kernel dropped some: assume a change
                    changed = True
                    continue
                # Anything else would fail again at once: stop reading rather than spin.
                log.warning("ptt.network.read_failed", error=exc.strerror or str(exc))
                self.stop()
                return
            changed = changed or any(m.kind in rtnetlink.CHANGES for m in rtnetlink.split(data))
        if changed:
            self._arm()

    def _arm(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        if self._burst_began is None:
            self._burst_began = now
        if self._timer is not None:
            self._timer.cancel()
        due = min(now + self._settle, self._burst_began + self._max_settle)
        self._timer = loop.call_at(due, self._settled)

    def _settled(self) -> None:
        self._timer = None
        self._burst_began = None
        if self._targets is None:
            self._resolve(baseline=False)
        else:
            self._evaluate(report=True)

    # the server's address --------------------------------------------------------------

    def _resolve(self, *, baseline: bool) -> None:
        if self._lookup is None and self._loop is not None:
            self._lookup = self._loop.create_task(self._look_up(baseline))

    async def _look_up(self, baseline: bool) -> None:
        assert self._loop is not None
        try:
            infos = await self._loop.getaddrinfo(self._host, 9, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError) as exc:  # gaierror is an OSError
            log.debug("ptt.network.lookup_failed", host=self._host, error=str(exc))
            return
        finally:
            if self._lookup is asyncio.current_task():  # not a newer start's lookup
                self._lookup = None
        self._targets = [(family, sockaddr) for family, _, _, _, sockaddr in infos]
        self._evaluate(report=not baseline)

    # the path --------------------------------------------------------------------------

    def _evaluate(self, *, report: bool) -> None:
        if self._targets is None or self._sock is None:
            return
        before, self._path = self._path, probe(self._targets)
        change = change_between(before, self._path)
        if change is None or not report:
            return
        log.info(
            "ptt.network.changed",
            change=change.value,
            source=self._path.source if self._path else None,
            interface=self._path.interface if self._path else None,
        )
        self._deliver(change)

    def _deliver(self, change: NetworkChange) -> None:
        events = self._events
        if events is None:
            return
        try:
            events.changed(change)
        except Exception:  # the machine's problem; the watch must go on
            log.exception("ptt.network.callback_failed", change=change.value)
