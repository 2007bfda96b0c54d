"""One frame in, one response out: parse, rate-limit, log, route to the handler.

Every failure of a request ends as an error response on that link; nothing a client
sends can raise out of :meth:`Dispatcher.on_frame`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.backends.reference import protocol
from fsm.logs import get_logger

from .hub import Hub
from .limits import Admission
from .link import Link
from .mediaops import MediaOps
from .stats import Stats
from .wire import Request, RequestError, RequestId, error, ok, parse, text_arg

log = get_logger("ptt.server")

Handler = Callable[[Link, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


class Dispatcher:
    def __init__(self, hub: Hub, media: MediaOps, stats: Stats) -> None:
        self._hub = hub
        self._stats = stats
        self._routes: dict[str, Handler] = {
            protocol.JOIN: self._join,
            protocol.LEAVE: lambda link, d: hub.leave(link, text_arg(d, "channel")),
            protocol.PING: lambda link, d: {"t": time.monotonic()},
            protocol.PTT_START: lambda link, d: hub.ptt_start(link, text_arg(d, "tx_id")),
            protocol.PTT_STOP: lambda link, d: hub.ptt_stop(link, text_arg(d, "tx_id")),
            protocol.MESSAGE: hub.relay,
            protocol.GET_CAPABILITIES: media.capabilities,
            protocol.CREATE_TRANSPORT: media.create_transport,
            protocol.CONNECT_TRANSPORT: media.connect_transport,
            protocol.PRODUCE: media.produce,
            protocol.CONSUME: media.consume,
            protocol.CLOSE_CONSUMER: media.close_consumer,
        }
        assert set(self._routes) == protocol.REQUESTS, "every protocol request needs a route"

    async def on_frame(self, link: Link, frame: str | bytes) -> None:
        request: Request | None = None
        rid: RequestId | None = None
        try:
            request = parse(frame)
            rid = request.id
        except RequestError as exc:
            rejection, rid = exc, exc.request_id
        # Malformed frames count too: a flood of garbage costs as much as valid requests.
        admission = link.limiter.admit()
        if admission is not Admission.ACCEPT:
            link.send(error(rid, protocol.E_RATE_LIMITED, "too many requests"))
            if admission is Admission.DISCONNECT:
                log.warning("ptt.server.rate_limited", user=link.user)
                link.close(protocol.CLOSE_RATE_LIMITED, "rate limited")
            return
        if request is None:
            link.send(error(rid, rejection.code, rejection.message))
            return
        self._stats.record(link.user, request.method, request.data)
        await self._answer(link, request)

    async def _answer(self, link: Link, request: Request) -> None:
        try:
            result = self._routes[request.method](link, request.data)
            if isinstance(result, Awaitable):
                result = await result
            reply = ok(request.id, result)
        except RequestError as exc:
            link.send(error(request.id, exc.code, exc.message))
            if exc.close_code is not None:
                link.close(exc.close_code, exc.message)  # queued behind the answer that says why
            return
        except Exception:
            log.exception("ptt.server.request_failed", user=link.user, method=request.method)
            reply = error(request.id, protocol.E_INTERNAL, "internal error")
            link.send(reply)
            return
        link.send(reply)
        if request.method == protocol.JOIN:
            # Queued in the same step as the answer, so a resumed client reads its join
            # result, then what it missed in order, then anything relayed after.
            self._hub.replay_missed(link)

    def _join(self, link: Link, data: dict[str, Any]) -> dict[str, Any]:
        session_id = data.get("session_id")
        if session_id is not None and not isinstance(session_id, str):
            raise RequestError(protocol.E_BAD_REQUEST, "'session_id' must be a string")
        last_seq = data.get(protocol.LAST_SEQ)
        # bool is an int subclass: ``"last_seq": true`` is a client bug worth reporting.
        if last_seq is not None and (
            isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0
        ):
            raise RequestError(protocol.E_BAD_REQUEST, "'last_seq' must be an integer >= 0")
        return self._hub.join(link, text_arg(data, "channel"), session_id, last_seq)
