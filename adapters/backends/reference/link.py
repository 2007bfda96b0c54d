"""The reference server's link: JSON requests and notifications over one WebSocket
(``websockets`` asyncio client). :class:`~.signaling.ReferenceSignaling` speaks the domain
on top of it; the SFU media (:class:`~.media.sfu_media.SfuMedia`) uses its :meth:`call`.

One :class:`_Link` per ``open()``: it owns the socket, its reader, writer and keepalive
tasks, and the pending requests. ``close()`` detaches the current link at once (the
machine never hears from it again) and finishes closing it in the background; every
task is tracked so ``aclose()`` leaves nothing running.

Dead-link detection: websockets' own keepalive (``ping_interval`` + ``ping_timeout``)
plus an application ping (``ping`` request) on the same schedule. When either goes
unanswered the socket is aborted at once instead of waiting for a closing handshake
that a blackholed path would never complete, so loss is reported within
``ping_interval + ping_timeout``.

Callbacks (:class:`LinkEvents` and replies) run on the loop, never from inside a method
call; an exception raised by one is logged and does not break the link. Every failure is a
typed :mod:`fsm.errors` value whose ``cause`` comes from :mod:`.causes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from fsm.backoff import MAX_RETRY_AFTER
from fsm.errors import (
    Cause,
    ConnectRefused,
    ConnectTimeout,
    KeepaliveTimeout,
    LinkError,
    OperationTimeout,
    ProtocolViolation,
    PttError,
    RequestFailed,
)
from fsm.logs import get_logger
from fsm.ports import Reply, Result

from . import protocol
from .causes import close_cause, error_cause, restart_hint, status_cause
from .redact import RedactingLogger

log = get_logger("ptt.signaling")


@dataclass(frozen=True)
class SignalingOptions:
    """Timeouts and limits of the signaling link (seconds, bytes)."""

    open_timeout: float = 10.0
    request_timeout: float = 5.0
    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    close_timeout: float = 1.0
    max_size: int = 1 << 20
    #: Sent as ``X-PTT-Channel`` so a server can refuse a wrong channel at the handshake.
    channel: str | None = None


class LinkEvents(Protocol):
    """What one opened link reports: ``opened``, frames, then one ``failed`` or ``lost``."""

    def opened(self) -> None: ...

    def failed(self, error: LinkError) -> None: ...

    def lost(self, error: LinkError) -> None: ...

    def notification(self, method: str, data: Mapping[str, Any]) -> None:
        """A server notification whose envelope is valid; ``data`` is not validated."""


class WebSocketLink:
    """Requests and notifications over one WebSocket at a time; also the media's
    :class:`~.media.seams.Requester`."""

    def __init__(self, options: SignalingOptions | None = None) -> None:
        self.options = options or SignalingOptions()
        self._link: _Link | None = None
        self._closing: set[asyncio.Task[None]] = set()
        #: Frames from the server that were dropped as malformed, by reason.
        self.dropped: dict[str, int] = {}

    # --- the link ------------------------------------------------------------------------
    def open(self, url: str, token: str, events: LinkEvents) -> None:
        self.close()
        self._link = _Link(self, url, token, events)

    def probe(self, timeout: float) -> None:
        """Ping the server now; no answer within ``timeout`` drops the link (``lost``)."""
        link = self._link
        if link is not None and link.is_open:
            link.probe(timeout)

    def request(self, method: str, data: Mapping[str, Any], reply: Reply) -> None:
        link = self._link
        if link is None or not link.is_open:
            error = LinkError("signaling link is not open")
            asyncio.get_running_loop().call_soon(_answer, reply, Result(error=error))
            return
        link.request(method, data, reply, self.options.request_timeout)

    def close(self, code: int = protocol.CLOSE_NORMAL, reason: str = "") -> None:
        link, self._link = self._link, None
        if link is not None:
            # Silence the link now, not when the closing task first runs: a frame already
            # read, or a close, must not reach the events object after close() returned.
            link.detach()
            task = asyncio.get_running_loop().create_task(link.close(code, reason))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    # --- Requester (for the media) --------------------------------------------------------
    async def call(
        self,
        method: str,
        data: Mapping[str, Any],
        timeout: float | None = None,  # noqa: ASYNC109 - a per-request deadline, not a wait
    ) -> dict[str, Any]:
        """Send a request and return its response data; raises a :class:`PttError`."""
        link = self._link
        if link is None or not link.is_open:
            raise LinkError("signaling link is not open")
        future: asyncio.Future[Result[Any]] = asyncio.get_running_loop().create_future()

        def reply(result: Result[Any]) -> None:
            if not future.done():
                future.set_result(result)

        deadline = self.options.request_timeout if timeout is None else timeout
        link.request(method, data, reply, deadline)
        result = await future
        if result.error is not None:
            raise result.error
        return dict(result.value) if isinstance(result.value, Mapping) else {}

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._link is not None and self._link.is_open

    async def aclose(self) -> None:
        """Close the link and wait until every socket and task of this adapter is gone."""
        self.close()
        while self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    def count_drop(self, why: str) -> None:
        """Count a frame dropped as malformed (also by the decoders above the link)."""
        self.dropped[why] = self.dropped.get(why, 0) + 1


class _Link:
    """One WebSocket connection attempt and, if it opens, its whole life."""

    def __init__(self, owner: WebSocketLink, url: str, token: str, events: LinkEvents) -> None:
        self.owner = owner
        self.options = owner.options
        self.events: LinkEvents | None = events
        self.ws: ClientConnection | None = None
        self.is_open = False
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, Reply, asyncio.TimerHandle]] = {}
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._main = asyncio.get_running_loop().create_task(self._run(url, token))

    # --- the connection's life -------------------------------------------------------------
    async def _run(self, url: str, token: str) -> None:
        try:
            try:
                self.ws = await self._connect(url, token)
            except LinkError as failure:
                self._report("failed", failure)
                return
            if self.events is None:  # closed while the handshake was finishing
                return
            self.is_open = True
            log.debug("ptt.signaling.opened", url=url)
            self._spawn(self._writer())
            self._spawn(self._app_keepalive())
            self._emit("opened", self.events.opened)
            error = await self._reader()
            self.is_open = False
            self._fail_pending(error)
            self._report("lost", error)
        finally:
            # Whatever ended the link (loss, close(), a bug), no socket or task outlives it.
            self.is_open = False
            if self.ws is not None:
                self.ws.transport.abort()
            await self._stop_tasks()

    async def _connect(self, url: str, token: str) -> ClientConnection:
        o = self.options
        headers = {"Authorization": f"Bearer {token}"}
        if o.channel:
            headers["X-PTT-Channel"] = o.channel
        try:
            return await connect(
                url,
                additional_headers=headers,
                subprotocols=[Subprotocol(protocol.SUBPROTOCOL)],
                open_timeout=o.open_timeout,
                ping_interval=o.ping_interval,
                ping_timeout=o.ping_timeout,
                close_timeout=o.close_timeout,
                max_size=o.max_size,
                user_agent_header="ptt-fsm",
                # websockets logs every handshake header at DEBUG: never the token.
                logger=RedactingLogger(logging.getLogger("websockets.client"), token),
            )
        except InvalidStatus as exc:
            response = exc.response
            retry_after = _retry_after(response.headers.get("Retry-After"))
            status = response.status_code
            cause = status_cause(status)
            raise LinkError(status=status, cause=cause, retry_after=retry_after) from exc
        except InvalidURI as exc:
            raise LinkError(
                f"invalid server URL: {exc}", status=400, cause=Cause.BAD_REQUEST
            ) from exc
        except ssl.SSLError as exc:  # before OSError, its base class
            raise _tls_error(exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeout() from exc
        except ConnectionRefusedError as exc:
            raise ConnectRefused() from exc
        except ConnectionClosed as exc:
            raise _closed_error(exc) from exc
        except (InvalidHandshake, OSError, EOFError) as exc:
            raise LinkError(f"connect failed: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # urllib's parsing of a malformed URL (e.g. "ws://[x")
            raise LinkError(
                f"invalid server URL: {exc}", status=400, cause=Cause.BAD_REQUEST
            ) from exc
        except Exception as exc:  # an attempt must end in ``failed``, whatever broke
            log.warning("ptt.signaling.connect_crashed", error=repr(exc))
            raise LinkError(f"connect failed: {type(exc).__name__}: {exc}") from exc

    async def _reader(self) -> LinkError:
        """Read frames until the link ends; returns why it ended."""
        assert self.ws is not None
        try:
            async for frame in self.ws:
                self._dispatch(frame)
        except ConnectionClosed as exc:
            return _closed_error(exc)
        except Exception as exc:  # the link must end with a typed error, whatever broke
            log.warning("ptt.signaling.reader_failed", error=repr(exc))
            self.ws.transport.abort()  # the socket must not outlive its reader
            return LinkError(f"signaling reader failed: {exc}", code=1006)
        return _closed_error(None, self.ws)

    async def _writer(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.ws.send(await self._outgoing.get())

    def probe(self, timeout: float) -> None:
        """One application ping with its own deadline, on top of the keepalive schedule."""

        def answered(result: Result[Any]) -> None:
            if isinstance(result.error, OperationTimeout) and self.is_open:
                self._abort(KeepaliveTimeout("no answer to a probe after a network change"))

        self.request(protocol.PING, {}, answered, timeout)

    async def _app_keepalive(self) -> None:
        """Ask the server to answer, not just the TCP stack: catches a wedged server too."""
        o = self.options
        while True:
            await asyncio.sleep(o.ping_interval)
            answered: asyncio.Future[Result[Any]] = asyncio.get_running_loop().create_future()
            self.request(protocol.PING, {}, _setter(answered), o.ping_timeout)
            result = await answered
            if isinstance(result.error, OperationTimeout):
                self._abort(KeepaliveTimeout(code=1006))
                return

    def _abort(self, error: LinkError) -> None:
        """Drop the TCP connection now: a silent path would never finish a close handshake."""
        log.info("ptt.signaling.dead_link", reason=str(error))
        self.is_open = False
        self._fail_pending(error)
        self._report("lost", error)
        if self.ws is not None:
            self.ws.transport.abort()

    # --- requests and frames ---------------------------------------------------------------
    def request(self, method: str, data: Mapping[str, Any], reply: Reply, timeout: float) -> None:
        request_id = next(self._ids)
        try:
            frame = json.dumps(
                {"id": request_id, "method": method, "data": dict(data)}, allow_nan=False
            )
        except (TypeError, ValueError) as exc:
            error = ProtocolViolation(f"{method} data is not JSON: {exc}")
            asyncio.get_running_loop().call_soon(_answer, reply, Result(error=error))
            return
        loop = asyncio.get_running_loop()
        timer = loop.call_later(timeout, self._expire, request_id)
        self._pending[request_id] = (method, reply, timer)
        self._outgoing.put_nowait(frame)

    def _expire(self, request_id: int) -> None:
        entry = self._pending.pop(request_id, None)
        if entry is not None:
            method, reply, _ = entry
            _answer(reply, Result(error=OperationTimeout(f"no answer to {method} in time")))

    def _fail_pending(self, error: PttError) -> None:
        pending, self._pending = self._pending, {}
        for _, reply, timer in pending.values():
            timer.cancel()
            _answer(reply, Result(error=error))

    def _dispatch(self, frame: str | bytes) -> None:
        message = _parse(frame)
        if isinstance(message, str):
            self._drop(message, size=len(frame))
            return
        if message.get("notification") is True:
            method, data = message.get("method"), message.get("data", {})
            if not isinstance(method, str) or not isinstance(data, dict):
                self._drop("bad_notification", method=repr(method)[:64])
            elif self.events is not None:
                self._emit("notification", self.events.notification, method, data)
            return
        request_id = message.get("id")
        entry = None
        # bool is an int subclass: ``"id": true`` must not answer request 1.
        if isinstance(request_id, int) and not isinstance(request_id, bool):
            entry = self._pending.pop(request_id, None)
        ok = message.get("ok")
        if not isinstance(ok, bool):
            # Not a response the protocol allows; if it names a pending request, that
            # request will never get a usable answer: fail it now rather than at timeout.
            self._drop("bad_response", id=repr(request_id)[:64])
            if entry is not None:
                method, reply, timer = entry
                timer.cancel()
                violation = ProtocolViolation(f"malformed response to {method}: ok={ok!r:.40}")
                _answer(reply, Result(error=violation))
            return
        if entry is None:
            self._drop("unknown_id", id=repr(request_id)[:64])
            return
        method, reply, timer = entry
        timer.cancel()
        if ok:
            # As sent: the decoders above the link judge a malformed answer.
            _answer(reply, Result(value=message.get("data", {})))
        else:
            err = message.get("error")
            err = err if isinstance(err, dict) else {}
            code, text = str(err.get("code", "unknown")), str(err.get("message", ""))
            failed = RequestFailed(method, error_cause(code), text, code=code)
            _answer(reply, Result(error=failed))

    def _drop(self, why: str, **details: Any) -> None:
        self.owner.count_drop(why)
        log.warning("ptt.signaling.dropped_frame", why=why, **details)

    def _emit(self, kind: str, callback: Any, *args: Any) -> None:
        """Call an events callback; its exception is the caller's bug, not a link fault."""
        try:
            callback(*args)
        except Exception:
            log.exception("ptt.signaling.callback_failed", callback=kind)

    # --- endings ---------------------------------------------------------------------------
    def _report(self, kind: str, error: LinkError) -> None:
        events, self.events = self.events, None  # report at most once per link
        if events is None:
            return
        log.debug(f"ptt.signaling.{kind}", error=str(error))
        self._emit(kind, events.failed if kind == "failed" else events.lost, error)

    def detach(self) -> None:
        """The machine has moved on: report nothing more, accept no more requests."""
        self.events = None
        self.is_open = False

    async def close(self, code: int, reason: str) -> None:
        self.detach()
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                # Flush what was queued (a goodbye ``leave``) before the close frame.
                while not self._outgoing.empty():
                    await asyncio.wait_for(ws.send(self._outgoing.get_nowait()), 1.0)
            with contextlib.suppress(Exception):
                await ws.close(code, reason)
        self._main.cancel()
        # wait() neither raises the task's outcome nor swallows a cancel of this task.
        await asyncio.wait([self._main])
        if not self._main.cancelled() and self._main.exception() is not None:
            log.error("ptt.signaling.link_crashed", error=repr(self._main.exception()))
        await self._stop_tasks()
        self._fail_pending(LinkError("signaling link closed"))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop_tasks(self) -> None:
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _answer(reply: Reply, result: Result[Any]) -> None:
    """Hand a result to a reply; its exception is the caller's bug, not a link fault."""
    try:
        reply(result)
    except Exception:
        log.exception("ptt.signaling.reply_failed")


def _setter(future: asyncio.Future[Result[Any]]) -> Reply:
    def reply(result: Result[Any]) -> None:
        if not future.done():
            future.set_result(result)

    return reply


def _parse(frame: str | bytes) -> dict[str, Any] | str:
    """The message as a dict, or why it was dropped."""
    if isinstance(frame, bytes):
        return "binary_frame"
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
        return "invalid_json"
    if not isinstance(message, dict):
        return "not_an_object"
    return message


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, capped at ``MAX_RETRY_AFTER`` (an absurd value
    is a long wait, not an instant retry); ``None`` when absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare for WebSocket servers; fall back to backoff
    if math.isnan(seconds) or seconds < 0:  # unreadable
        return None
    return min(seconds, MAX_RETRY_AFTER)


#: TLS failures that are the network's (a reset or truncated handshake): retried.
_TRANSIENT_TLS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _tls_error(exc: ssl.SSLError) -> LinkError:
    """A failed TLS handshake: an untrusted certificate (self-signed, expired, another
    host) or a TLS/plain mismatch fails the same way every time, so it is not retried."""
    if isinstance(exc, _TRANSIENT_TLS):
        return LinkError(f"TLS handshake interrupted: {exc}")
    detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    return LinkError(f"TLS handshake failed: {detail}", cause=Cause.TLS, code=1015)


def _closed_error(exc: ConnectionClosed | None, ws: ClientConnection | None = None) -> LinkError:
    """Why a link that was open ended, from its close frames.

    The peer's close frame when there is one; else the one we sent when we failed the
    connection ourselves (1009 frame too big, 1002/1007 protocol errors; websockets'
    keepalive sends 1011), else 1006: the connection just died.
    """
    if exc is not None:
        rcvd, sent = exc.rcvd, exc.sent
    elif ws is not None:
        rcvd, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
    else:
        rcvd = sent = None
    if rcvd is not None:
        return _close_error(rcvd.code, rcvd.reason)
    if sent is not None and sent.code == 1011 and "keepalive" in sent.reason:
        return KeepaliveTimeout(code=1006)
    if sent is not None and sent.code not in (1000, 1001):
        return _close_error(sent.code, sent.reason)
    return LinkError("signaling link dropped without a close frame", code=1006)


def _close_error(code: int, reason: str) -> LinkError:
    cause = close_cause(code)
    detail = f": {reason[:120]}" if reason else ""
    return LinkError(
        f"link closed with {code} ({cause}){detail}",
        cause=cause,
        code=code,
        retry_after=restart_hint(reason),  # a planned restart's "come back in S seconds"
    )
