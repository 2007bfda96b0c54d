"""``AiortcTransports``: the ``fsm.ports.Transports`` port on aiortc.

The port's rules, and how they are kept here:

- port methods return at once: each starts a task on the running loop; the task calls the
  ``reply`` when done, so a reply is never synchronous and always on the loop thread;
- operations of one session run one after another (``MediaSession.lock``): a ``consume``
  sent while ``create`` is still running waits for it instead of racing its negotiation;
- ``close()`` ends the session: every task is cancelled and both pcs are closed by a
  teardown task (``wait_closed()`` awaits it); replies and events of a closed session are
  dropped. ``create()`` after ``close()`` starts a fresh session (the machine does that to
  rebuild media).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from aiortc import RTCIceServer, RTCPeerConnection

from fsm.errors import ConfigError, TransportError
from fsm.ports import MediaEvents, Reply, Result

from .errors import as_transport_error
from .seams import AudioIO, Requester
from .session import MediaSession

log = structlog.get_logger("ptt.transports")


class AiortcTransports:
    """One send and one recv WebRTC transport to the reference SFU.

    ``liveness_timeout``: seconds without expected audio (received while a remote speaker
    holds the floor; acknowledged by RTCP while we talk, at least 2 s there) before
    ``events.failed(MediaTimeout)``. ``connect_timeout`` bounds a whole ``create``.
    ``ice_servers``: STUN/TURN URLs or ``RTCIceServer`` objects.
    """

    def __init__(
        self,
        requester: Requester,
        audio: AudioIO,
        *,
        liveness_timeout: float = 3.0,
        ice_servers: Sequence[str | RTCIceServer] = (),
        connect_timeout: float = 10.0,
    ) -> None:
        if liveness_timeout <= 0 or connect_timeout <= 0:
            raise ConfigError("liveness_timeout and connect_timeout must be positive")
        self._requester = requester
        self._audio = audio
        self._liveness_timeout = liveness_timeout
        self._connect_timeout = connect_timeout
        self._ice_servers = [
            s if isinstance(s, RTCIceServer) else RTCIceServer(urls=s) for s in ice_servers
        ]
        self._session: MediaSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # operations of the current session
        self._closing: set[asyncio.Task[None]] = set()  # teardowns still running

    # --- the port -------------------------------------------------------------------------
    def create(self, capabilities: Mapping[str, Any], events: MediaEvents, reply: Reply) -> None:
        self.close()  # a create always starts from nothing
        session = MediaSession(
            self._requester,
            self._audio,
            events.failed,
            liveness_timeout=self._liveness_timeout,
            ice_servers=self._ice_servers,
        )
        self._session = session
        capabilities = dict(capabilities)

        async def create() -> dict[str, str]:
            async with asyncio.timeout(self._connect_timeout):
                return await session.open(capabilities)

        self._start(session, "create", create, reply)

    def produce(self, reply: Reply) -> None:
        session = self._session
        if session is None:
            self._fail_later(reply, "produce")
        else:
            self._start(session, "produce", session.produce, reply)

    def consume(self, producers: Sequence[str], reply: Reply) -> None:
        session = self._session
        if session is None:
            self._fail_later(reply, "consume")
        else:
            wanted = list(producers)
            self._start(session, "consume", lambda: session.consume(wanted), reply)

    def set_transmitting(self, on: bool) -> None:
        if self._session is not None:
            self._session.set_transmitting(on)

    def expect_audio(self, on: bool) -> None:
        if self._session is not None:
            self._session.expect_audio(on)

    def is_alive(self) -> bool:
        return self._session is not None and self._session.is_alive()

    def close(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        session.closed = True  # from now on nothing of this session reports
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()

        async def teardown() -> None:
            await asyncio.gather(*tasks, return_exceptions=True)
            await session.close()

        closing = asyncio.get_running_loop().create_task(teardown())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        log.info("transports_closing")

    # --- for callers that can wait, diagnostics and tests ---------------------------------
    async def wait_closed(self) -> None:
        """Wait until every closed session's pcs are closed and its tasks have ended."""
        while self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    def consumers(self) -> dict[str, str]:
        """producer_id -> consumer_id of the current session."""
        consumers = None if self._session is None else self._session.consumers
        if consumers is None:
            return {}
        return {p: c.consumer_id for p, c in consumers.by_producer.items()}

    def consumer_count(self) -> int:
        return len(self.consumers())

    def peer_connections(self) -> tuple[RTCPeerConnection, ...]:
        session = self._session
        if session is None:
            return ()
        return tuple(pc for pc in (session.send_pc, session.recv_pc) if pc is not None)

    # --- running operations ---------------------------------------------------------------
    def _start(
        self,
        session: MediaSession,
        what: str,
        operation: Callable[[], Awaitable[Any]],
        reply: Reply,
    ) -> None:
        async def run() -> None:
            try:
                async with session.lock:
                    value = await operation()
                result = Result(value=value)
            except Exception as exc:
                log.warning("transports_operation_failed", operation=what, error=str(exc))
                result = Result(error=as_transport_error(exc, what))
            if not session.closed:
                _deliver(reply, result, what)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _fail_later(reply: Reply, what: str) -> None:
        error = TransportError(f"{what} before create (or after close)")
        asyncio.get_running_loop().call_soon(_deliver, reply, Result(error=error), what)


def _deliver(reply: Reply, result: Result, what: str) -> None:
    try:
        reply(result)
    except Exception:  # the caller's bug; it must not kill our task silently
        log.exception("transports_reply_raised", operation=what)
