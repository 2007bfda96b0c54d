"""Every way the reference server ends a session or refuses a request maps to a ``Cause``."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.backends.reference import causes, protocol
from fsm.classify import DEFAULT_TABLE, Verdict
from fsm.errors import Cause, LinkError, RequestFailed


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (4000, Cause.KICKED),
        (4001, Cause.AUTH_EXPIRED),
        (4003, Cause.FORBIDDEN),
        (4004, Cause.CHANNEL_GONE),
        (4029, Cause.RATE_LIMITED),
        (1001, Cause.SERVER_GOING_AWAY),
        (1012, Cause.SERVER_GOING_AWAY),
        *[(code, Cause.TRANSIENT) for code in (1000, 1005, 1006, 1011, 1013)],
        *[(code, Cause.PROTOCOL) for code in (1002, 1003, 1007, 1009, 1010)],
        (4999, Cause.TRANSIENT),  # unknown: retrying is the safe bet
    ],
)
def test_close_code_causes(code: int, cause: Cause) -> None:
    assert causes.close_cause(code) is cause


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("unauthorized", Cause.AUTH_INVALID),
        ("forbidden", Cause.FORBIDDEN),
        ("kicked", Cause.KICKED),
        ("channel_deleted", Cause.CHANNEL_GONE),
        ("rate_limited", Cause.RATE_LIMITED),
        ("not_joined", Cause.TRANSIENT),
        ("internal", Cause.TRANSIENT),
        ("from-the-future", Cause.TRANSIENT),
    ],
)
def test_error_code_causes(code: str, cause: Cause) -> None:
    assert causes.error_cause(code) is cause


async def lost(env: Any, act: Any, ttl: float = 60.0, within: float = 3.0) -> LinkError:
    port, rec = await env.open_port(ttl=ttl)
    port.join("ops", None, env.Replies())
    await env.until(lambda: env.server.stats.methods("alice") == [protocol.JOIN])
    if act is not None:
        await act()
    kind, error = await rec.ended(within)
    assert kind == "lost"
    assert isinstance(error, LinkError)
    return error


async def test_kicked_is_final(env: Any) -> None:
    error = await lost(env, lambda: env.server.kick("alice"))
    assert (error.cause, error.code) == (Cause.KICKED, protocol.CLOSE_KICKED)
    assert "kicked" in str(error)  # the server's reason, for the status line
    assert DEFAULT_TABLE.verdict(error) is Verdict.FINAL


async def test_channel_deleted_is_final(env: Any) -> None:
    error = await lost(env, lambda: env.server.delete_channel("ops"))
    assert (error.cause, error.code) == (Cause.CHANNEL_GONE, protocol.CLOSE_CHANNEL_DELETED)
    assert DEFAULT_TABLE.verdict(error) is Verdict.FINAL


async def test_auth_expired_mid_session_is_worth_a_refresh(env: Any) -> None:
    error = await lost(env, None, ttl=1.0, within=4.0)  # exp is rounded up to a second
    assert (error.cause, error.code) == (Cause.AUTH_EXPIRED, protocol.CLOSE_AUTH_EXPIRED)
    assert DEFAULT_TABLE.is_auth_failure(error)


async def test_server_shutdown_is_going_away(env: Any) -> None:
    error = await lost(env, env.server.close)
    assert (error.cause, error.code) == (Cause.SERVER_GOING_AWAY, 1001)
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY


async def test_forbidden_channel_fails_the_join_then_closes_4003(env: Any) -> None:
    port, rec = await env.open_port()
    reply = env.Replies()
    port.join("not-mine", None, reply)
    [result] = await reply.wait()
    assert isinstance(result.error, RequestFailed)
    assert (result.error.cause, result.error.code) == (Cause.FORBIDDEN, protocol.E_FORBIDDEN)
    assert result.error.operation == protocol.JOIN
    _, error = await rec.ended()
    assert (error.cause, error.code) == (Cause.FORBIDDEN, protocol.CLOSE_FORBIDDEN)
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL


async def test_bad_token_at_the_handshake_is_auth_invalid_401(env: Any) -> None:
    port, rec = env.port(), env.PortRecorder()
    port.open(env.url, "not-a-jwt", rec)
    kind, error = await rec.ended()
    assert kind == "failed"
    assert (error.cause, error.status, error.code) == (Cause.AUTH_INVALID, 401, None)
    assert DEFAULT_TABLE.is_auth_failure(error)


async def test_wrong_channel_header_is_forbidden_403(env: Any) -> None:
    port, rec = env.port(channel="elsewhere"), env.PortRecorder()
    port.open(env.url, env.token(), rec)
    kind, error = await rec.ended()
    assert (kind, error.cause, error.status) == ("failed", Cause.FORBIDDEN, 403)


async def test_message_flood_is_rate_limited(make_env: Any) -> None:
    env = await make_env(max_rps=2)
    port, _ = await env.open_port()
    replies = [env.Replies() for _ in range(4)]
    port.join("ops", None, replies[0])
    for i, reply in enumerate(replies[1:]):
        port.send_message(f"m{i}", {"n": i}, reply)
    results = [(await reply.wait())[0] for reply in replies]
    refused = [r.error for r in results if r.error is not None]
    assert refused, results
    assert all(isinstance(e, RequestFailed) for e in refused)
    assert {(e.cause, e.code) for e in refused} == {(Cause.RATE_LIMITED, "rate_limited")}
    assert DEFAULT_TABLE.verdict(refused[0]) is Verdict.RETRY_AFTER
