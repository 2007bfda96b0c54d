"""Requests: every reply exactly once, typed errors, never synchronously."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from adapters import protocol
from adapters.faultproxy import FaultProxy
from adapters.server import PttServer
from fsm.errors import LinkError, OperationTimeout, ProtocolViolation, RequestFailed


async def test_request_timeout_replies_once_even_if_the_answer_comes_later(
    open_link: Any, replies: Callable[[], Any], proxy: FaultProxy
) -> None:
    sig, rec = await open_link(join=True, request_timeout=0.3)
    proxy.latency(0.6)
    reply = replies()
    sig.request(protocol.PING, {}, reply)
    [result] = await reply.wait()
    assert isinstance(result.error, OperationTimeout)
    assert "ping" in str(result.error)
    # the late answer arrives, is dropped as unknown, and does not reach the reply again
    await asyncio.wait_for(_until_dropped(sig, "unknown_id"), 2.0)
    assert len(reply.results) == 1
    assert sig.is_open  # a slow answer is not a dead link
    assert rec.kinds() == ["opened"]


async def _until_dropped(sig: Any, why: str, n: int = 1) -> None:
    while sig.dropped.get(why, 0) < n:
        await asyncio.sleep(0.01)


async def test_call_timeout_raises_operation_timeout(
    open_link: Any, proxy: FaultProxy
) -> None:
    sig, _ = await open_link(join=True, request_timeout=5.0)
    proxy.blackhole()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OperationTimeout):
        await sig.call(protocol.PING, {}, timeout=0.2)
    assert loop.time() - started < 1.0  # the per-call timeout, not the 5 s default


async def test_error_response_is_request_failed_with_code(
    open_link: Any, replies: Callable[[], Any]
) -> None:
    sig, rec = await open_link()
    reply = replies()
    sig.request(protocol.PTT_START, {"tx_id": "t1"}, reply)  # not joined yet
    [result] = await reply.wait()
    assert isinstance(result.error, RequestFailed)
    assert result.error.code == protocol.E_NOT_JOINED
    assert result.error.method == protocol.PTT_START
    with pytest.raises(RequestFailed) as unknown:
        await sig.call("noSuchMethod", {})
    assert unknown.value.code == protocol.E_UNKNOWN_METHOD
    assert sig.is_open
    # The server answers a join for another channel with an error, then closes (4003):
    # the answer still arrives before the link is reported lost.
    with pytest.raises(RequestFailed) as forbidden:
        await sig.call(protocol.JOIN, {"channel": "not-mine"})
    assert forbidden.value.code == protocol.E_FORBIDDEN
    _, error = await rec.ended()
    assert error.close_code == protocol.CLOSE_FORBIDDEN


async def test_pending_requests_fail_once_when_the_link_is_lost(
    open_link: Any, replies: Callable[[], Any], proxy: FaultProxy
) -> None:
    sig, rec = await open_link(join=True, request_timeout=1.0)
    proxy.blackhole()
    pending = [replies() for _ in range(3)]
    for reply in pending:
        sig.request(protocol.PING, {}, reply)
    calling = asyncio.ensure_future(sig.call(protocol.PING, {}))
    await asyncio.sleep(0.05)  # let the requests reach the (silent) socket
    assert all(r.results == [] for r in pending)
    proxy.reset_now()
    _, error = await rec.ended()
    for reply in pending:
        [result] = await reply.wait()
        assert isinstance(result.error, LinkError)
        assert result.error.close_code == 1006
    with pytest.raises(LinkError):
        await calling
    await asyncio.sleep(1.2)  # past the request timeout: no second reply (no timeout reply)
    assert all(len(r.results) == 1 for r in pending)
    assert rec.kinds() == ["opened", "lost"]


async def test_request_when_not_open_replies_link_error_asynchronously(
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    replies: Callable[[], Any],
    url: str,
    token: Callable[..., str],
    server: PttServer,
) -> None:
    sig = make_signaling()

    async def check_not_open(stage: str) -> None:
        reply = replies()
        sig.request(protocol.PING, {}, reply)
        assert reply.results == [], f"{stage}: replied synchronously"
        [result] = await reply.wait()
        assert isinstance(result.error, LinkError), stage
        with pytest.raises(LinkError):
            await sig.call(protocol.PING, {})

    await check_not_open("never opened")
    rec = recorder()
    sig.open(url, token(), rec)
    await check_not_open("opening")
    await rec.first("opened")
    assert (await sig.call(protocol.PING, {}))["t"] > 0
    await server.kick("alice")
    await rec.first("lost")
    await check_not_open("lost")
    sig.close()
    await check_not_open("closed")
    assert server.stats.methods("alice") == [protocol.PING]


async def test_unserialisable_data_replies_protocol_violation_asynchronously(
    open_link: Any, replies: Callable[[], Any], server: PttServer
) -> None:
    sig, _ = await open_link()
    for bad in ({"x": object()}, {"x": math.nan}):
        reply = replies()
        sig.request(protocol.MESSAGE, bad, reply)
        assert reply.results == []
        [result] = await reply.wait()
        assert isinstance(result.error, ProtocolViolation), bad
    assert (await sig.call(protocol.PING, {}))["t"] > 0
    assert server.stats.methods("alice") == [protocol.PING]  # nothing invalid went out
