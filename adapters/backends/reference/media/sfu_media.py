"""``SfuMedia``: the :class:`fsm.ports.Media` port for the reference SFU, on aiortc.

The port's rules, and how they are kept here:

- port methods return at once: each starts a task on the running loop; the task calls the
  ``reply`` when done, so a reply is never synchronous and always on the loop thread;
- operations of one session run one after another (``MediaSession.lock``): a ``follow``
  sent while ``connect`` is still running waits for it instead of racing its negotiation;
- ``close()`` ends the session: every task is cancelled and both pcs are closed by a
  teardown task (``wait_closed()`` awaits it); replies and events of a closed session are
  dropped. ``connect()`` after ``close()`` starts a fresh session (the machine does that to
  rebuild media).

Every reply's value is ``None``; a failure is a :class:`~fsm.errors.TransportError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection

from adapters.backends.base import AudioIO
from fsm.domain import AudioSource
from fsm.errors import ConfigError, TransportError
from fsm.logs import get_logger
from fsm.ports import MediaEvents, Reply, Result

from .errors import as_transport_error
from .seams import Requester
from .session import MediaSession

log = get_logger("ptt.transports")


class SfuMedia:
    """One send and one recv WebRTC transport to the reference SFU.

    ``liveness_timeout``: seconds without expected audio (received while a remote speaker
    holds the floor; acknowledged by RTCP while we talk, at least 2 s there) before
    ``events.failed(MediaTimeout)``. ``connect_timeout`` bounds a whole ``connect``.
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

    # --- fsm.ports.Media ------------------------------------------------------------------
    def connect(self, events: MediaEvents, reply: Reply) -> None:
        self.close()  # a connect always starts from nothing
        session = MediaSession(
            self._requester,
            self._audio,
            events.failed,
            liveness_timeout=self._liveness_timeout,
            ice_servers=self._ice_servers,
        )
        self._session = session

        async def connect() -> None:
            async with asyncio.timeout(self._connect_timeout):
                await session.open()

        self._start(session, "connect", connect, reply)

    def attach_microphone(self, reply: Reply) -> None:
        session = self._session
        if session is None:
            self._fail_later(reply, "attach_microphone")
        else:
            self._start(session, "attach_microphone", session.produce, reply)

    def follow(self, sources: Sequence[AudioSource], reply: Reply) -> None:
        session = self._session
        if session is None:
            self._fail_later(reply, "follow")
        else:
            wanted = [s.source_id for s in sources]
            self._start(session, "follow", lambda: session.consume(wanted), reply)

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
        log.info("media_closing")

    # --- for callers that can wait, diagnostics and tests ---------------------------------
    async def wait_closed(self) -> None:
        """Wait until every closed session's pcs are closed and its tasks have ended."""
        while self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    @property
    def producer_id(self) -> str | None:
        """Our microphone's producer on the SFU, once attached."""
        return None if self._session is None else self._session.producer_id

    def consumers(self) -> dict[str, str]:
        """source (producer) id -> consumer id of the current session."""
        consumers = None if self._session is None else self._session.consumers
        if consumers is None:
            return {}
        return {p: c.consumer_id for p, c in consumers.by_producer.items()}

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
        operation: Callable[[], Awaitable[None]],
        reply: Reply,
    ) -> None:
        async def run() -> None:
            result: Result[None]
            try:
                async with session.lock:
                    await operation()
                result = Result()
            except Exception as exc:
                log.warning("media_operation_failed", operation=what, error=str(exc))
                result = Result(error=as_transport_error(exc, what))
            if not session.closed:
                _deliver(reply, result, what)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _fail_later(reply: Reply, what: str) -> None:
        error = TransportError(f"{what} before connect (or after close)")
        asyncio.get_running_loop().call_soon(_deliver, reply, Result(error=error), what)


def _deliver(reply: Reply, result: Result[None], what: str) -> None:
    try:
        reply(result)
    except Exception:  # the caller's bug; it must not kill our task silently
        log.exception("media_reply_raised", operation=what)
