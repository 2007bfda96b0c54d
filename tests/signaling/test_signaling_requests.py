"""Requests: every reply exactly once, typed errors, never synchronously."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest

from adapters.backends.reference import protocol
from fsm.errors import LinkError, OperationTimeout, ProtocolViolation, RequestFailed


async def test_request_timeout_replies_once_even_if_the_answer_comes_later(env: Any) -> None:
    sig, rec = await env.open(join=True, request_timeout=0.3)
    env.proxy.latency(0.6)
    reply = env.Replies()
    sig.request(protocol.PING, {}, reply)
    [result] = await reply.wait()
    assert isinstance(result.error, OperationTimeout)
    assert protocol.PING in str(result.error)
    # the late answer arrives, is dropped as unknown, and does not reach the reply again
    await env.until(lambda: sig.dropped.get("unknown_id") == 1)
    assert len(reply.results) == 1
    assert sig.is_open  # a slow answer is not a dead link
    assert rec.kinds() == ["opened"]


async def test_call_timeout_raises_operation_timeout(env: Any) -> None:
    sig, _ = await env.open(join=True, request_timeout=5.0)
    env.proxy.blackhole()
    started = time.monotonic()
    with pytest.raises(OperationTimeout):
        await sig.call(protocol.PING, {}, timeout=0.2)
    assert time.monotonic() - started < 1.0  # the per-call timeout, not the 5 s default


async def test_error_response_is_request_failed_with_code(env: Any) -> None:
    sig, rec = await env.open()
    reply = env.Replies()
    sig.request(protocol.PTT_START, {"tx_id": "t1"}, reply)  # not joined yet
    [result] = await reply.wait()
    assert isinstance(result.error, RequestFailed)
    assert result.error.code == protocol.E_NOT_JOINED
    assert result.error.operation == protocol.PTT_START
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
    assert error.code == protocol.CLOSE_FORBIDDEN


async def test_pending_requests_fail_once_when_the_link_is_lost(env: Any) -> None:
    sig, rec = await env.open(join=True, request_timeout=0.6)
    env.proxy.blackhole()
    pending = [env.Replies() for _ in range(3)]
    for reply in pending:
        sig.request(protocol.PING, {}, reply)
    calling = asyncio.ensure_future(sig.call(protocol.PING, {}))
    await asyncio.sleep(0.05)  # let the requests reach the (silent) socket
    assert all(r.results == [] for r in pending)
    env.proxy.reset_now()
    await rec.first("lost")
    for reply in pending:
        [result] = await reply.wait()
        assert isinstance(result.error, LinkError)
        assert result.error.code == 1006
    with pytest.raises(LinkError):
        await calling
    await asyncio.sleep(0.8)  # past the request timeout: no second (timeout) reply
    assert [len(r.results) for r in pending] == [1, 1, 1]
    assert rec.kinds() == ["opened", "lost"]


async def test_request_when_not_open_replies_link_error_asynchronously(env: Any) -> None:
    sig = env.link()

    async def check_not_open(stage: str) -> None:
        reply = env.Replies()
        sig.request(protocol.PING, {}, reply)
        assert reply.results == [], f"{stage}: replied synchronously"
        [result] = await reply.wait()
        assert isinstance(result.error, LinkError), stage
        with pytest.raises(LinkError):
            await sig.call(protocol.PING, {})

    await check_not_open("never opened")
    rec = env.Recorder()
    sig.open(env.url, env.token(), rec)
    await check_not_open("opening")
    await rec.first("opened")
    assert (await sig.call(protocol.PING, {}))["t"] > 0
    await env.server.kick("alice")
    await rec.first("lost")
    await check_not_open("lost")
    sig.close()
    await check_not_open("closed")
    assert env.server.stats.methods("alice") == [protocol.PING]


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": math.nan}, {"x": math.inf}])
async def test_unserialisable_data_replies_protocol_violation_asynchronously(
    bad: dict[str, Any], env: Any
) -> None:
    sig, _ = await env.open()
    reply = env.Replies()
    sig.request(protocol.MESSAGE, bad, reply)
    assert reply.results == []
    [result] = await reply.wait()
    assert isinstance(result.error, ProtocolViolation)
    with pytest.raises(ProtocolViolation):
        await sig.call(protocol.MESSAGE, bad)
    assert (await sig.call(protocol.PING, {}))["t"] > 0
    assert env.server.stats.methods("alice") == [protocol.PING]  # nothing invalid went out
