"""Handshake failures become exactly one ``failed`` with a classifiable ``LinkError``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from adapters.faultproxy import FaultProxy
from adapters.server import PttServer, mint_token
from fsm.classify import DEFAULT_TABLE, Verdict
from fsm.errors import ConnectRefused, ConnectTimeout, LinkError


async def fail_once(sig: Any, rec: Any, url: str, tok: str) -> LinkError:
    """Open, wait for the outcome, and check it was one ``failed`` and nothing else."""
    sig.open(url, tok, rec)
    assert rec.events == []
    kind, error = await rec.ended()
    assert kind == "failed"
    assert isinstance(error, LinkError)
    assert not sig.is_open
    await sig.aclose()  # the attempt is over: nothing may come after this
    assert rec.kinds() == ["failed"]
    return error


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(lambda: "not-a-jwt", id="garbage"),
        pytest.param(lambda: mint_token("another-secret-" + "x" * 40, "alice", "ops", 60),
                     id="wrong-signature"),
        pytest.param(lambda: mint_token(
            "signaling-secret-" + "0123456789abcdef" * 4, "alice", "ops", -30), id="expired"),
    ],
)
async def test_bad_token_fails_with_401(
    bad_token: Callable[[], str],
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    url: str,
    server: PttServer,
) -> None:
    error = await fail_once(make_signaling(), recorder(), url, bad_token())
    assert error.status == 401
    assert error.close_code is None
    assert DEFAULT_TABLE.is_auth_failure(error)
    assert server.stats.handshakes["401"] == 1


async def test_wrong_channel_header_fails_with_403(
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    url: str,
    token: Callable[..., str],
    server: PttServer,
) -> None:
    error = await fail_once(make_signaling(channel="elsewhere"), recorder(), url, token())
    assert error.status == 403
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL
    assert server.stats.handshakes["403"] == 1


@pytest.mark.parametrize(("status", "retry_after"), [(503, 1.5), (429, 2.0), (503, None)])
async def test_overload_statuses_carry_retry_after(
    status: int,
    retry_after: float | None,
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    url: str,
    token: Callable[..., str],
    server: PttServer,
) -> None:
    server.reject_next(status=status, retry_after=retry_after)
    error = await fail_once(make_signaling(), recorder(), url, token())
    assert error.status == status
    assert error.retry_after == retry_after
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY_AFTER
    # the rejection was one-shot: the next attempt opens
    sig, rec = make_signaling(), recorder()
    sig.open(url, token(), rec)
    await rec.first("opened")


async def test_refusing_proxy_fails_with_connect_refused(
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    url: str,
    token: Callable[..., str],
    proxy: FaultProxy,
) -> None:
    proxy.refuse()
    error = await fail_once(make_signaling(), recorder(), url, token())
    assert isinstance(error, ConnectRefused)
    assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY


async def test_closed_port_fails_with_connect_refused(
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    token: Callable[..., str],
    closed_port: int,
) -> None:
    error = await fail_once(
        make_signaling(), recorder(), f"ws://127.0.0.1:{closed_port}/ptt", token()
    )
    assert isinstance(error, ConnectRefused)


async def test_silent_server_fails_with_connect_timeout(
    make_signaling: Callable[..., Any],
    recorder: Callable[[], Any],
    url: str,
    token: Callable[..., str],
    proxy: FaultProxy,
    until: Callable[..., Any],
) -> None:
    proxy.blackhole()  # TCP is accepted, the HTTP upgrade is never answered
    started = time.monotonic()
    error = await fail_once(make_signaling(open_timeout=0.5), recorder(), url, token())
    elapsed = time.monotonic() - started
    assert isinstance(error, ConnectTimeout)
    assert proxy.connections == 1
    assert 0.45 <= elapsed < 1.5, elapsed
    # The client closed its socket: the proxy saw the FIN (a blackhole keeps its own side
    # open, half-closed) and, leaving blackhole mode, resets what the client had left.
    proxy.pass_through()
    await until(lambda: proxy.live == 0)


async def test_invalid_url_fails_without_raising(
    make_signaling: Callable[..., Any], recorder: Callable[[], Any], token: Callable[..., str]
) -> None:
    error = await fail_once(make_signaling(), recorder(), "http://[not a url", token())
    assert error.status == 400


async def test_unusable_token_characters_fail_instead_of_hanging(
    make_signaling: Callable[..., Any], recorder: Callable[[], Any], url: str
) -> None:
    # A header value websockets refuses to send: the attempt must still end in ``failed``.
    error = await fail_once(make_signaling(), recorder(), url, "abc\r\nX-Evil: 1")
    assert isinstance(error, LinkError)
