"""The reference PTT server: JWT auth, channels, floor control, session resume, limits.

Media is delegated to a :class:`MediaRouter`; the default :class:`NoMedia` serves
signaling only.
"""

from .app import PttServer, serve_forever
from .auth import Claims, TokenError, TokenExpired, TokenInvalid, mint_token, verify_token
from .factory import media_server
from .gate import CHANNEL_HEADER
from .media import ChannelAware, MediaError, MediaRouter, MediaUnsupported, NoMedia
from .stats import LoggedRequest, Stats

__all__ = [
    "CHANNEL_HEADER",
    "ChannelAware",
    "Claims",
    "LoggedRequest",
    "MediaError",
    "MediaRouter",
    "MediaUnsupported",
    "NoMedia",
    "PttServer",
    "Stats",
    "TokenError",
    "TokenExpired",
    "TokenInvalid",
    "media_server",
    "mint_token",
    "serve_forever",
    "verify_token",
]
