"""A link that was open ends with exactly one ``lost`` carrying the close code."""

from __future__ import annotations

import time
from typing import Any

from adapters.backends.reference import protocol
from fsm.classify import DEFAULT_TABLE, Verdict
from fsm.errors import KeepaliveTimeout, LinkError


async def lost_once(sig: Any, rec: Any, within: float = 3.0) -> LinkError:
    """Wait for the end of an open link: one ``lost`` after ``opened``, nothing more."""
    kind, error = await rec.ended(within)
    assert kind == "lost"
    assert isinstance(error, LinkError)
    assert not sig.is_open
    await rec.quiet(0.15)
    assert rec.kinds().count("lost") == 1
    assert "failed" not in rec.kinds()
    assert rec.kinds()[0] == "opened"
    return error


async def test_kick_is_4000_final(env: Any) -> None:
    sig, rec = await env.open(join=True)
    assert await env.server.kick("alice") == 1
    error = await lost_once(sig, rec)
    assert error.code == protocol.CLOSE_KICKED
    assert "kicked" in str(error)
    assert DEFAULT_TABLE.verdict(error) is Verdict.FINAL


async def test_channel_deleted_is_4004_final(env: Any) -> None:
    sig, rec = await env.open(join=True)
    assert await env.server.delete_channel("ops") == 1
    error = await lost_once(sig, rec)
    assert error.code == protocol.CLOSE_CHANNEL_DELETED
    assert DEFAULT_TABLE.verdict(error) is Verdict.FINAL


async def test_server_shutdown_is_1001_retry(env: Any) -> None:
    sig, rec = await env.open(join=True)
    await env.server.close()
    error = await lost_once(sig, rec)
    assert error.code == 1001
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY


async def test_token_expiring_mid_session_is_4001_auth(env: Any) -> None:
    sig, rec = await env.open(join=True, ttl=1.0)
    error = await lost_once(sig, rec, within=4.0)  # exp is rounded up to a whole second
    assert error.code == protocol.CLOSE_AUTH_EXPIRED
    assert DEFAULT_TABLE.is_auth_failure(error)


async def test_tcp_reset_is_1006_retry(env: Any) -> None:
    sig, rec = await env.open(join=True)
    env.proxy.reset_now()
    error = await lost_once(sig, rec)
    assert error.code == 1006
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY


async def test_blackhole_mid_session_is_detected_by_keepalive(env: Any) -> None:
    sig, rec = await env.open(join=True, ping_interval=0.5, ping_timeout=0.5, close_timeout=1.0)
    await sig.call(protocol.PING, {})  # the path works before the fault
    env.proxy.blackhole()
    started = time.monotonic()
    kind, error = await rec.ended(within=4.0)
    detected = rec.times[rec.kinds().index("lost")] - started
    print(f"\nblackhole detected after {detected:.3f} s (ping 0.5 s + timeout 0.5 s)")
    assert kind == "lost"
    assert detected < 2.0
    assert isinstance(error, KeepaliveTimeout) or error.code == 1006
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY
    await rec.quiet(0.2)
    assert rec.kinds() == ["opened", "lost"]
    # the dead socket was aborted, not left waiting for a closing handshake
    assert env.client_sockets() == 0
    env.proxy.pass_through()
    await env.until(lambda: env.proxy.live == 0)


async def test_frames_before_the_close_frame_are_delivered_first(env: Any) -> None:
    sig, rec = await env.open(join=True)
    env.server.send_raw("alice", '{"notification": true, "method": "bye", "data": {}}')
    assert await env.server.kick("alice") == 1
    error = await lost_once(sig, rec)
    assert rec.notes("bye") == [{}]
    assert rec.kinds() == ["opened", "notification", "lost"]
    assert error.code == protocol.CLOSE_KICKED


async def test_flapping_server_always_ends_each_attempt(env: Any) -> None:
    sig, proxy, rounds = env.link(open_timeout=1.0), env.proxy, 4
    outcomes = []
    for i in range(rounds * 2):
        flapping = i % 2 == 0
        if flapping:
            proxy.flap()
        else:
            proxy.pass_through()
        rec = env.Recorder()
        sig.open(env.url, env.token(), rec)  # a new open closes the previous link
        if flapping:
            kind, error = await rec.ended(within=2.0)
            assert kind == "failed", rec.events
            assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY
        else:
            await rec.first("opened", within=2.0)
            proxy.flap()  # live connections are left alone by flap ...
            await sig.call(protocol.PING, {})
            proxy.reset_now()  # ... and a reset then ends this one
            kind, error = await rec.ended(within=2.0)
            assert kind == "lost", rec.events
            assert error.code == 1006
        outcomes.append(kind)
    assert outcomes == ["failed", "lost"] * rounds
    assert proxy.connections == rounds * 2
    await env.settle(sig)
