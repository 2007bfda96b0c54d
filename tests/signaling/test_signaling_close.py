"""close() and aclose(): silence after close, queued goodbyes flushed, nothing left behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import pytest

from adapters.backends.reference import protocol
from fsm.errors import LinkError


async def test_close_while_tcp_connected_but_handshake_unanswered(env: Any) -> None:
    before = set(asyncio.all_tasks())
    sig, rec = env.link(open_timeout=5.0), env.Recorder()
    env.proxy.blackhole()
    sig.open(env.url, env.token(), rec)
    await env.until(lambda: env.proxy.connections == 1)
    assert env.adapter_tasks() != []  # the attempt is running ...
    started = time.monotonic()
    sig.close()
    assert not sig.is_open
    await env.settle(sig)
    assert time.monotonic() - started < 1.0  # ... and close() stopped it: no open_timeout
    await rec.quiet(0.1)
    assert rec.events == []
    await env.until(lambda: set(asyncio.all_tasks()) <= before)


async def test_close_during_a_slow_handshake_never_reports_opened(env: Any) -> None:
    env.proxy.latency(0.15)
    sig, rec = env.link(), env.Recorder()
    sig.open(env.url, env.token(), rec)
    await env.until(lambda: env.server.stats.handshakes["ok"] == 1)  # the 101 is in flight
    sig.close()
    await env.settle(sig)
    await rec.quiet(0.3)  # past the moment the 101 would have reached the client
    assert rec.events == []
    await env.until(lambda: env.server.links() == 0)


async def test_close_in_the_same_tick_as_open(env: Any) -> None:
    sig, rec = env.link(), env.Recorder()
    sig.open(env.url, env.token(), rec)
    sig.close()
    await env.settle(sig)
    await rec.quiet(0.1)
    assert rec.events == []


async def test_close_during_a_request_replies_once_and_reports_nothing(env: Any) -> None:
    sig, rec = await env.open(join=True)
    env.proxy.latency(0.2)
    reply = env.Replies()
    sig.request(protocol.PING, {}, reply)
    calling = asyncio.ensure_future(sig.call(protocol.PING, {}))
    await asyncio.sleep(0.05)  # both requests are on the wire, the answers are not back
    sig.close()
    assert reply.results == []  # nothing synchronously from close() either
    await env.settle(sig)
    [result] = await reply.wait()
    assert result.ok or isinstance(result.error, LinkError)
    with contextlib.suppress(LinkError):
        await calling
    await asyncio.sleep(0.3)  # any late answer has arrived by now
    assert len(reply.results) == 1
    assert rec.kinds() == ["opened"]


async def test_close_twice_and_aclose_twice(env: Any) -> None:
    sig, rec = await env.open(join=True)
    sig.close()
    sig.close(4100, "again")
    assert not sig.is_open
    await env.settle(sig)
    await sig.aclose()
    assert rec.kinds() == ["opened"]
    await env.until(lambda: env.server.links() == 0)


async def test_close_flushes_a_queued_goodbye(env: Any) -> None:
    sig, rec = await env.open(join=True)
    sig.request(protocol.LEAVE, {"channel": "ops"}, env.Replies())
    sig.close()  # in the same tick: the leave has not been written yet
    await env.settle(sig)
    await env.until(lambda: env.server.stats.methods("alice") == [protocol.JOIN, protocol.LEAVE])
    assert rec.kinds() == ["opened"]


async def test_no_event_reaches_the_events_object_after_close_from_a_callback(
    env: Any,
) -> None:
    """The machine closes the link in reaction to a notification; frames already read
    (more notifications, the server's close) must not reach it any more."""
    sig = env.link()
    got: list[tuple[str, Any]] = []
    opened = asyncio.Event()

    class ClosesOnFirstNote:
        def opened(self) -> None:
            got.append(("opened", None))
            opened.set()

        def failed(self, error: LinkError) -> None:
            got.append(("failed", error))

        def lost(self, error: LinkError) -> None:
            got.append(("lost", error))

        def notification(self, method: str, data: Any) -> None:
            got.append(("notification", method))
            sig.close()

    sig.open(env.url, env.token(), ClosesOnFirstNote())
    await asyncio.wait_for(opened.wait(), 3.0)
    for i in range(3):
        env.server.send_raw("alice", json.dumps({"notification": True, "method": f"n{i}"}))
    await env.server.kick("alice")  # all of it is on its way: frames, then the close frame
    await env.until(lambda: ("notification", "n0") in got)
    await env.settle(sig)
    await asyncio.sleep(0.2)
    assert got == [("opened", None), ("notification", "n0")]


async def test_no_lost_after_close_when_the_close_frame_is_already_buffered(
    env: Any,
) -> None:
    sig, rec = await env.open(join=True)
    await env.server.kick("alice")  # the close frame is on its way or read already ...
    sig.close()  # ... when the machine closes
    await env.settle(sig)
    await rec.quiet(0.1)
    # what matters: nothing after close(); a lost reported before close() is fine
    assert rec.kinds() in (["opened"], ["opened", "lost"])


async def test_pending_call_fails_with_link_error_on_close(env: Any) -> None:
    sig, _ = await env.open(join=True)
    env.proxy.blackhole()
    calling = asyncio.ensure_future(sig.call(protocol.PING, {}))
    await asyncio.sleep(0.05)
    sig.close()
    started = time.monotonic()
    with pytest.raises(LinkError):
        await asyncio.wait_for(calling, 2.0)
    await env.settle(sig)
    assert time.monotonic() - started < 1.5  # bounded by close_timeout, not the request's


async def test_aclose_of_a_blackholed_session_is_bounded_and_clean(env: Any) -> None:
    before = set(asyncio.all_tasks())
    sig, rec = await env.open(join=True, close_timeout=0.3)
    env.proxy.blackhole()
    started = time.monotonic()
    await env.settle(sig)
    assert time.monotonic() - started < 1.5
    assert rec.kinds() == ["opened"]
    await env.until(lambda: set(asyncio.all_tasks()) <= before)


async def test_reopen_after_close_uses_a_fresh_link(env: Any) -> None:
    sig, first = await env.open(join=True)
    second = env.Recorder()
    sig.open(env.url, env.token(), second)  # closes the first link on the way
    await second.first("opened")
    assert (await sig.call(protocol.JOIN, {"channel": "ops"}))["members"]
    await env.server.kick("alice")
    await second.first("lost")
    await first.quiet(0.1)
    assert first.kinds() == ["opened"]
    assert second.kinds() == ["opened", "lost"]
    await env.settle(sig)
