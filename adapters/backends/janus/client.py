"""One WebSocket to the Janus API (subprotocol ``janus-protocol``): transactions and events.

Every request carries a fresh ``transaction``; Janus answers it with ``success`` or
``error``, and a plugin ``message`` first with ``ack`` and then with an ``event`` holding
the plugin's answer (a ``keepalive`` ends at its ``ack``). Everything without a pending
transaction (``webrtcup``, ``hangup``, ``media``, ``slowlink``, ``timeout``, ``detached``,
other participants' plugin events) goes to ``on_event``.

A dead socket is found by websockets' pings (``ping_interval`` + ``ping_timeout``) and by
the session keepalive going unanswered; either way the transport is *aborted*: a
blackholed path would never finish a closing handshake (STACK.md counts ``close_timeout``
otherwise). Janus never sends a close frame, even on SIGTERM: every end is a 1006.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from fsm.errors import (
    ConnectRefused,
    ConnectTimeout,
    KeepaliveTimeout,
    LinkError,
    OperationTimeout,
    ProtocolViolation,
)
from fsm.logs import get_logger

from .codes import JanusError

log = get_logger("ptt.janus")

SUBPROTOCOL = Subprotocol("janus-protocol")
Message = dict[str, Any]


@dataclass(frozen=True)
class ClientOptions:
    """Timeouts of the Janus link, in seconds. ``keepalive_interval`` must stay well inside
    the server's ``session_timeout`` (60 s by default; Janus says "timeout" about 2 s
    after it)."""

    open_timeout: float = 5.0
    request_timeout: float = 5.0
    keepalive_interval: float = 20.0
    ping_interval: float = 2.0
    ping_timeout: float = 2.0
    close_timeout: float = 0.5
    max_size: int = 1 << 20


class JanusConnection:
    """An open WebSocket to Janus; ``ended`` resolves with why it ended, exactly once."""

    def __init__(
        self, ws: ClientConnection, options: ClientOptions, on_event: Callable[[Message], None]
    ) -> None:
        self._ws = ws
        self._options = options
        self._on_event = on_event
        self._pending: dict[str, tuple[asyncio.Future[Message], bool]] = {}
        loop = asyncio.get_running_loop()
        self.ended: asyncio.Future[LinkError] = loop.create_future()
        self.dropped: dict[str, int] = {}  # malformed frames from Janus, by reason
        self._tasks: set[asyncio.Task[None]] = set()
        self._spawn(self._reader())

    @classmethod
    async def open(
        cls, url: str, options: ClientOptions, on_event: Callable[[Message], None]
    ) -> JanusConnection:
        """Connect; raises a :class:`LinkError` (with a cause) if that fails."""
        try:
            ws = await connect(
                url,
                subprotocols=[SUBPROTOCOL],
                open_timeout=options.open_timeout,
                ping_interval=options.ping_interval,
                ping_timeout=options.ping_timeout,
                close_timeout=options.close_timeout,
                max_size=options.max_size,
                user_agent_header="ptt-fsm",
            )
        except InvalidStatus as exc:
            raise LinkError(status=exc.response.status_code) from exc
        except (InvalidURI, ValueError) as exc:
            raise LinkError(f"invalid Janus URL: {exc}", status=400) from exc
        except TimeoutError as exc:
            raise ConnectTimeout() from exc
        except ConnectionRefusedError as exc:
            raise ConnectRefused() from exc
        except (InvalidHandshake, ConnectionClosed, OSError, EOFError) as exc:
            raise LinkError(f"connect failed: {type(exc).__name__}: {exc}") from exc
        return cls(ws, options, on_event)

    # --- requests ----------------------------------------------------------------------------
    async def request(
        self,
        kind: str,
        fields: Message,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request deadline
    ) -> Message:
        """Send ``{"janus": kind, **fields}`` and return the final answer.

        Raises :class:`JanusError` for an ``error`` answer or a plugin ``error_code``,
        :class:`OperationTimeout` when no answer came in time, :class:`LinkError` when the
        link ended first."""
        if self.ended.done():
            raise self.ended.result()
        transaction = secrets.token_hex(8)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = (future, kind == "keepalive")
        try:
            frame = json.dumps({"janus": kind, "transaction": transaction, **fields})
            await self._ws.send(frame)
            async with asyncio.timeout(timeout or self._options.request_timeout):
                return await future
        except ConnectionClosed as exc:
            raise self._end(LinkError("janus link dropped", code=1006)) from exc
        except TimeoutError as exc:
            raise OperationTimeout(f"no answer to janus {kind} in time") from exc
        finally:
            self._pending.pop(transaction, None)

    async def keep_alive(self, session_id: int, token: str) -> None:
        """Send ``keepalive`` on schedule until the link ends; abort it on a missed one."""
        options = self._options
        fields: Message = {"session_id": session_id, **_token(token)}
        while not self.ended.done():
            await asyncio.sleep(options.keepalive_interval)
            try:
                await self.request("keepalive", fields, timeout=options.ping_timeout * 2)
            except OperationTimeout:
                self.abort(KeepaliveTimeout(code="keepalive"))
                return
            except JanusError as exc:  # 458: the session is gone (a "timeout" came first)
                self.abort(LinkError(f"keepalive refused: {exc.reason}", code=exc.code))
                return
            except LinkError:
                return

    async def probe(self, session_id: int, token: str, timeout: float) -> None:  # noqa: ASYNC109
        """One ``keepalive`` with its own deadline (a network change); no answer in time
        aborts the link. A refused one (458) ends it as the scheduled keepalive would."""
        fields: Message = {"session_id": session_id, **_token(token)}
        try:
            await self.request("keepalive", fields, timeout=timeout)
        except OperationTimeout:
            self.abort(KeepaliveTimeout("no answer to a probe after a network change"))
        except JanusError as exc:
            self.abort(LinkError(f"keepalive refused: {exc.reason}", code=exc.code))
        except LinkError:
            return

    # --- endings ------------------------------------------------------------------------------
    def abort(self, error: LinkError) -> None:
        """Drop the TCP connection now and end with ``error``."""
        self._end(error)
        self._ws.transport.abort()

    async def aclose(self) -> None:
        """Close (no handshake wait: Janus answers none) and stop every task."""
        self.abort(LinkError("janus link closed"))
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.wait_closed(), self._options.close_timeout)

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` for the life of this link (cancelled by :meth:`aclose`)."""
        self._spawn(coro)

    def _end(self, error: LinkError) -> LinkError:
        if self.ended.cancelled():  # a waiter that forgot to shield it: end anyway
            self.ended = asyncio.get_running_loop().create_future()
        if not self.ended.done():
            self.ended.set_result(error)
            for future, _ in self._pending.values():
                if not future.done():
                    future.set_exception(error)
        return self.ended.result()

    # --- frames ---------------------------------------------------------------------------------
    async def _reader(self) -> None:
        try:
            async for frame in self._ws:
                self._dispatch(frame)
            self._end(LinkError("janus closed the link", code=1000))
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            sent = exc.sent
            if sent is not None and sent.code == 1011:  # websockets' keepalive gave up
                self.abort(KeepaliveTimeout(code=1006))
            self._end(LinkError("janus link dropped", code=code))
        except Exception as exc:  # the link must end with a typed error, whatever broke
            log.warning("ptt.janus.reader_failed", error=repr(exc))
            self.abort(LinkError(f"janus reader failed: {exc}", code=1006))

    def _dispatch(self, frame: str | bytes) -> None:
        message = _parse(frame)
        if isinstance(message, str):
            self._drop(message)
            return
        kind = message.get("janus")
        transaction = message.get("transaction")
        entry = self._pending.get(transaction) if isinstance(transaction, str) else None
        if entry is None and kind == "ack":
            return  # Janus may send the event before the ack: a late ack means nothing
        if entry is None or kind not in ("ack", "success", "error", "event"):
            self._event(message)
            return
        future, ack_ends = entry
        if future.done():
            if kind != "ack":
                self._event(message)
        elif kind == "ack":
            if ack_ends:
                future.set_result(message)
        elif kind == "error":
            future.set_exception(_error_of(message.get("error")))
        else:
            failure = _plugin_error(message)
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(message)

    def _event(self, message: Message) -> None:
        try:
            self._on_event(message)
        except Exception:  # a bug in a listener must not break the link
            log.exception("ptt.janus.event_listener_failed", kind=str(message.get("janus"))[:32])

    def _drop(self, why: str) -> None:
        self.dropped[why] = self.dropped.get(why, 0) + 1
        log.warning("ptt.janus.dropped_frame", why=why)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _token(token: str) -> Message:
    return {"token": token} if token else {}


def with_token(token: str, fields: Message) -> Message:
    """``fields`` plus the token Janus wants on every request when ``token_auth`` is on."""
    return {**fields, **_token(token)}


def _parse(frame: str | bytes) -> Message | str:
    if isinstance(frame, bytes):
        return "binary_frame"
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        return "invalid_json"
    if not isinstance(message, dict):
        return "not_an_object"
    if not isinstance(message.get("janus"), str):
        return "no_janus_kind"
    return message


def _error_of(error: object) -> JanusError:
    if isinstance(error, dict):
        code, reason = error.get("code"), error.get("reason")
        if isinstance(code, int) and not isinstance(code, bool):
            return JanusError(code, str(reason or ""))
    return JanusError(0, f"malformed error {error!r:.80}")


def _plugin_error(message: Message) -> JanusError | ProtocolViolation | None:
    """A plugin answer that is an error (``error_code``), or None."""
    plugindata = message.get("plugindata")
    if plugindata is None:
        return None
    data = plugindata.get("data") if isinstance(plugindata, dict) else None
    if not isinstance(data, dict):
        return ProtocolViolation("janus plugin answer without data")
    code = data.get("error_code")
    if code is None:
        return None
    if not isinstance(code, int) or isinstance(code, bool):
        return ProtocolViolation(f"janus plugin error_code is {code!r:.40}")
    return JanusError(code, str(data.get("error", ""))[:200])


def plugin_data(message: Message) -> Message:
    """The plugin's answer inside a Janus message; a missing one is a protocol violation."""
    plugindata = message.get("plugindata")
    data = plugindata.get("data") if isinstance(plugindata, dict) else None
    if not isinstance(data, dict):
        raise ProtocolViolation("janus answer has no plugin data")
    return data
