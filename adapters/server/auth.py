"""Access tokens: HS256 JWTs naming a user (``sub``) and the one channel they may join."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import jwt

_ALGORITHM = "HS256"


class TokenError(Exception):
    """The token cannot be used: answer HTTP 401 and let the client get a new one."""


class TokenInvalid(TokenError):
    """Malformed, wrongly signed, or missing a required claim."""


class TokenExpired(TokenError):
    """Well-formed and signed, but past its ``exp``."""


@dataclass(frozen=True)
class Claims:
    user: str
    channel: str
    exp: float  # seconds since the epoch

    def seconds_left(self, now: float | None = None) -> float:
        return self.exp - (time.time() if now is None else now)


def mint_token(secret: str, user: str, channel: str, ttl: float) -> str:
    """Sign a token for ``user`` on ``channel`` valid for ``ttl`` seconds (may be negative)."""
    # JWT exp is whole seconds and PyJWT truncates it: round up so a token never dies early.
    exp = math.ceil(time.time() + ttl)
    return jwt.encode({"sub": user, "channel": channel, "exp": exp}, secret, algorithm=_ALGORITHM)


def verify_token(secret: str, token: str) -> Claims:
    """Check signature, expiry and claims; raise :class:`TokenExpired` or :class:`TokenInvalid`."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            options={"require": ["sub", "channel", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("token expired") from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"invalid token: {exc}") from exc
    user, channel = payload["sub"], payload["channel"]
    if not isinstance(user, str) or not user or not isinstance(channel, str) or not channel:
        raise TokenInvalid("invalid token: sub and channel must be non-empty strings")
    return Claims(user=user, channel=channel, exp=float(payload["exp"]))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, if there is one."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
