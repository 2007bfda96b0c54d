"""Handshake failures become exactly one ``failed`` with a classifiable ``LinkError``."""

from __future__ import annotations

import time
from typing import Any

import pytest

from adapters.server import mint_token
from fsm.classify import DEFAULT_TABLE, Verdict
from fsm.errors import ConnectRefused, ConnectTimeout, LinkError


async def fail_once(env: Any, token: str, url: str | None = None, **options: Any) -> LinkError:
    """Open, wait for the outcome, and check it was one ``failed`` and nothing else."""
    sig, rec = env.link(**options), env.Recorder()
    sig.open(env.url if url is None else url, token, rec)
    assert rec.events == []  # never synchronously from inside open()
    kind, error = await rec.ended()
    assert kind == "failed"
    assert isinstance(error, LinkError)
    assert not sig.is_open
    await env.settle(sig, proxy_live=False)  # the attempt is over: nothing can come later
    assert rec.kinds() == ["failed"]
    return error


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(
            mint_token("another-secret-" + "x" * 40, "alice", "ops", 60), id="wrong-signature"
        ),
        pytest.param("expired", id="expired"),
    ],
)
async def test_bad_token_fails_with_401(bad_token: str, env: Any) -> None:
    if bad_token == "expired":
        bad_token = env.token(ttl=-30)
    error = await fail_once(env, bad_token)
    assert error.status == 401
    assert error.code is None
    assert DEFAULT_TABLE.is_auth_failure(error)
    assert env.server.stats.handshakes == {"401": 1}


async def test_wrong_channel_header_fails_with_403(env: Any) -> None:
    error = await fail_once(env, env.token(), channel="elsewhere")
    assert error.status == 403
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL
    assert env.server.stats.handshakes == {"403": 1}


@pytest.mark.parametrize(("status", "retry_after"), [(503, 1.5), (429, 2.0), (503, None)])
async def test_overload_statuses_carry_retry_after(
    status: int, retry_after: float | None, env: Any
) -> None:
    env.server.reject_next(status=status, retry_after=retry_after)
    error = await fail_once(env, env.token())
    assert error.status == status
    assert error.retry_after == retry_after
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY_AFTER
    await env.open()  # the rejection was one-shot: the next attempt opens


async def test_refusing_proxy_fails_with_connect_refused(env: Any) -> None:
    env.proxy.refuse()
    error = await fail_once(env, env.token())
    assert isinstance(error, ConnectRefused)
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY
    assert env.proxy.connections == 0


async def test_closed_port_fails_with_connect_refused(env: Any) -> None:
    error = await fail_once(env, env.token(), url=f"ws://127.0.0.1:{env.closed_port()}/ptt")
    assert isinstance(error, ConnectRefused)


async def test_silent_server_fails_with_connect_timeout(env: Any) -> None:
    env.proxy.blackhole()  # TCP is accepted, the HTTP upgrade is never answered
    started = time.monotonic()
    error = await fail_once(env, env.token(), open_timeout=0.5)
    elapsed = time.monotonic() - started
    assert isinstance(error, ConnectTimeout)
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY
    assert env.proxy.connections == 1
    assert 0.45 <= elapsed < 1.5, elapsed
    # The client closed its socket: the proxy saw the FIN (a blackhole keeps its own side
    # open, half-closed) and, leaving blackhole mode, resets what the client had left.
    env.proxy.pass_through()
    await env.until(lambda: env.proxy.live == 0)


@pytest.mark.parametrize("url", ["http://[not a url", "ftp://example.invalid/ptt"])
async def test_invalid_url_fails_without_raising(url: str, env: Any) -> None:
    error = await fail_once(env, env.token(), url=url)
    assert error.status == 400


async def test_header_injection_in_token_fails_instead_of_hanging(env: Any) -> None:
    error = await fail_once(env, "abc\r\nX-Evil: 1")
    assert error.status is None  # never reached a server
    assert env.handshakes == []
