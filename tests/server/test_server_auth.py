"""Tokens and the opening handshake: who may connect, and what the refusals look like."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.datastructures import HeadersLike
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from adapters.backends.reference import protocol
from adapters.server import (
    CHANNEL_HEADER,
    PttServer,
    TokenExpired,
    TokenInvalid,
    mint_token,
    verify_token,
)
from adapters.server.testing import RawClient, bearer

Connect = Callable[..., Awaitable[RawClient]]
Mint = Callable[[str], str]  # secret -> token


def test_mint_and_verify_round_trip(secret: str) -> None:
    """A minted token verifies to its user, channel and an expiry no earlier than asked."""
    before = time.time()
    claims = verify_token(secret, mint_token(secret, "alice", "ops", 30))
    assert (claims.user, claims.channel) == ("alice", "ops")
    assert before + 30 <= claims.exp <= before + 31


def _claims(**claims: object) -> Mint:
    return lambda secret: jwt.encode({"exp": time.time() + 60, **claims}, secret)


@pytest.mark.parametrize(
    ("mint", "error"),
    [
        (lambda secret: mint_token(secret, "alice", "ops", -5), TokenExpired),
        (lambda secret: mint_token(secret + "x", "alice", "ops", 30), TokenInvalid),
        (lambda secret: "not.a.jwt", TokenInvalid),
        (_claims(sub="alice"), TokenInvalid),
        (_claims(sub=7, channel="ops"), TokenInvalid),
        (_claims(sub="alice", channel=""), TokenInvalid),
        (
            lambda secret: jwt.encode(
                {"sub": "a", "channel": "ops", "exp": time.time() + 60}, secret, "HS512"
            ),
            TokenInvalid,
        ),
    ],
    ids=["expired", "forged", "garbage", "no-channel", "int-sub", "empty-channel", "hs512"],
)
def test_verify_rejects_with_typed_errors(secret: str, mint: Mint, error: type[Exception]) -> None:
    """Expired, forged, malformed, incomplete or wrong-algorithm tokens raise typed errors."""
    with pytest.raises(error):
        verify_token(secret, mint(secret))


async def _status(url: str, headers: HeadersLike) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, additional_headers=headers):
            pass
    return caught.value


@pytest.mark.parametrize(
    "header",
    [
        None,
        lambda secret: "Bearer garbage",
        lambda secret: f"Basic {mint_token(secret, 'alice', 'ops', 60)}",
        lambda secret: f"Bearer {mint_token(secret, 'alice', 'ops', -1)}",
    ],
    ids=["missing", "bad", "not-bearer", "expired"],
)
async def test_handshake_401(server: PttServer, secret: str, header: Mint | None) -> None:
    """No usable bearer token: HTTP 401 before any WebSocket exists."""
    headers = {} if header is None else {"Authorization": header(secret)}
    exc = await _status(server.url, headers)
    assert exc.response.status_code == 401
    assert exc.response.headers["WWW-Authenticate"].startswith("Bearer")
    assert server.stats.handshakes == {"401": 1}


async def test_two_authorization_headers_401(server: PttServer, secret: str) -> None:
    """Two Authorization headers are ambiguous: 401, not a server error."""
    token = bearer(secret, "alice", "ops")["Authorization"]
    exc = await _status(server.url, [("Authorization", token), ("Authorization", token)])
    assert exc.response.status_code == 401


async def test_token_in_url_is_ignored(server: PttServer, secret: str) -> None:
    """A token in the query string does not authenticate: only the header counts."""
    token = mint_token(secret, "alice", "ops", 60)
    exc = await _status(f"{server.url}?token={token}&access_token={token}", {})
    assert exc.response.status_code == 401


async def test_channel_header_must_match_token(server: PttServer, secret: str) -> None:
    """X-PTT-Channel naming another channel than the token's: HTTP 403; the same: accepted."""
    token = bearer(secret, "alice", "ops")
    exc = await _status(server.url, {**token, CHANNEL_HEADER: "other"})
    assert exc.response.status_code == 403
    async with connect(server.url, additional_headers={**token, CHANNEL_HEADER: "ops"}):
        pass
    assert server.stats.handshakes == {"403": 1, "ok": 1}


async def test_unknown_path_404(server: PttServer, secret: str) -> None:
    """Only the protocol's path is served."""
    exc = await _status(server.url.replace("/ptt", "/other"), bearer(secret, "alice", "ops"))
    assert exc.response.status_code == 404


async def test_subprotocol_negotiated_when_offered(server: PttServer, secret: str) -> None:
    """A client offering ptt.v1 gets it; one offering nothing is still served."""
    token = bearer(secret, "alice", "ops")
    offer = [Subprotocol(protocol.SUBPROTOCOL)]
    async with connect(server.url, additional_headers=token, subprotocols=offer) as ws:
        assert ws.subprotocol == protocol.SUBPROTOCOL
    async with connect(server.url, additional_headers=token) as ws:
        assert ws.subprotocol is None


async def test_join_other_channel_forbidden_then_4003(connect: Connect) -> None:
    """A join outside the token's channel is answered ``forbidden``, then closed with 4003."""
    client = await connect("alice", "ops", join=False)
    assert await client.error("join", {"channel": "secret"}) == protocol.E_FORBIDDEN
    assert await client.closed() == protocol.CLOSE_FORBIDDEN


async def test_token_expiring_mid_session_closes_4001(connect: Connect) -> None:
    """When the token's exp passes, the server closes the link with 4001."""
    client = await connect("alice", ttl=0.5)
    assert await client.ok("ping")
    assert await client.closed(within=3.0) == protocol.CLOSE_AUTH_EXPIRED


async def test_reject_next_answers_503_with_retry_after(server: PttServer, secret: str) -> None:
    """reject_next(n) refuses exactly the next n handshakes with the status and Retry-After."""
    token = bearer(secret, "alice", "ops")
    server.reject_next(2, status=503, retry_after=1.5)
    for _ in range(2):
        exc = await _status(server.url, token)
        assert exc.response.status_code == 503
        assert exc.response.headers["Retry-After"] == "1.5"
    server.reject_next(1, status=429, retry_after=None)
    exc = await _status(server.url, token)
    assert exc.response.status_code == 429
    assert "Retry-After" not in exc.response.headers
    async with connect(server.url, additional_headers=token):
        pass
    assert server.stats.handshakes == {"503": 2, "429": 1, "ok": 1}
