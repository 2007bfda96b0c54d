"""The wire protocol between the client and the reference PTT server (JSON over WebSocket).

Client -> server, every message is a request and gets exactly one response::

    {"id": 7, "method": "join", "data": {"channel": "ops"}}

Server -> client::

    {"id": 7, "ok": true, "data": {...}}                          # success
    {"id": 7, "ok": false, "error": {"code": "forbidden", "message": "..."}}
    {"notification": true, "method": "speakerChanged", "data": {...}}

Authentication: ``Authorization: Bearer <JWT>`` on the WebSocket handshake, never in the URL.
HTTP 401 (missing/bad/expired token), 403 (token for another channel), 429/503 with
``Retry-After`` (overloaded), close codes below for everything that ends a session.
"""

from __future__ import annotations

from typing import Final

SUBPROTOCOL: Final = "ptt.v1"
DEFAULT_PATH: Final = "/ptt"

# --- requests (client -> server) --------------------------------------------------------
JOIN: Final = "join"  # {channel, session_id?, last_seq?} -> JoinResult (below)
LEAVE: Final = "leave"  # {channel} -> {}
PING: Final = "ping"  # {} -> {"t": server time}; the app-level liveness check
GET_CAPABILITIES: Final = "getRouterRtpCapabilities"  # {} -> {"codecs": [...]}
CREATE_TRANSPORT: Final = "createWebRtcTransport"  # {direction: send|recv} -> {transport_id}
CONNECT_TRANSPORT: Final = "connectWebRtcTransport"  # {transport_id, sdp, type} -> {sdp, type}
PRODUCE: Final = "produce"  # {transport_id, kind: "audio"} -> {producer_id}
CONSUME: Final = "consume"  # {transport_id, producer_id, sdp, type} -> {consumer_id, sdp, type}
CLOSE_CONSUMER: Final = "closeConsumer"  # {consumer_id} -> {}
PTT_START: Final = "pttStart"  # {tx_id} -> {granted: bool, tx_id, speaker}
PTT_STOP: Final = "pttStop"  # {tx_id} -> {released: bool}
MESSAGE: Final = "message"  # {any JSON object} -> {}; relayed to the channel as MESSAGE

REQUESTS: Final = frozenset(
    {
        JOIN,
        LEAVE,
        PING,
        GET_CAPABILITIES,
        CREATE_TRANSPORT,
        CONNECT_TRANSPORT,
        PRODUCE,
        CONSUME,
        CLOSE_CONSUMER,
        PTT_START,
        PTT_STOP,
        MESSAGE,
    }
)

# JoinResult: {"session_id": str, "resumed": bool, "peer_id": str, "members": [peer_id...],
#              "names": {peer_id: user},
#              "speaker": peer_id | null, "producers": [{"producer_id", "peer_id"}...]}
# A join with the session_id of a session the server still keeps (grace period) resumes
# it: same peer_id, "resumed": true, its transports/producer/consumers kept.
# JoinResult also has "missed": int, messages relayed to the session that it will never
# get. A resume replays the ones kept (bounded), in order, as MESSAGE notifications right
# after its answer, and "missed" counts only the overflow; a fresh join naming an ended
# session_id gets all that session was owed (0 if not remembered).
#
# Delivery numbers: the server numbers every MESSAGE it relays to a session, 1, 2, 3...
# (SEQ in the notification's data; a new session starts again at 1) and keeps the newest
# (the server's missed.MISSED_LIMIT, 256). A resuming join carries LAST_SEQ, the highest
# seq the client received on that session (0 if none): the server replays everything
# after it, whether it was still queued, written into a socket that died silently, or
# relayed while the link was down, then live messages; a client drops a replayed seq it
# already has. Without LAST_SEQ (older clients) a resume replays only what no link wrote.
SEQ: Final = "seq"  # in MESSAGE notification data: int >= 1, per session, increasing
LAST_SEQ: Final = "last_seq"  # in a resuming join: int >= 0

# --- notifications (server -> client) ---------------------------------------------------
SPEAKER_CHANGED: Final = "speakerChanged"  # {peer_id | null, tx_id | null}
NEW_PRODUCER: Final = "newProducer"  # {producer_id, peer_id}
PRODUCER_CLOSED: Final = "producerClosed"  # {producer_id, peer_id}
PEER_JOINED: Final = "peerJoined"  # {peer_id, user}
PEER_LEFT: Final = "peerLeft"  # {peer_id, user}
# To the floor holder only. Reasons: "max_talk_time"; "kicked" (a moderator removed the
# holder); "stalled" (the server heard no audio from the holder for stall_timeout).
FLOOR_REVOKED: Final = "floorRevoked"  # {tx_id, reason}
# MESSAGE (above) is also a notification: {"from": peer_id, "seq": int, "data": {msg_id?, ...}}.

# --- error codes in responses -----------------------------------------------------------
E_BAD_REQUEST: Final = "bad_request"
E_UNKNOWN_METHOD: Final = "unknown_method"
E_NOT_JOINED: Final = "not_joined"
E_FORBIDDEN: Final = "forbidden"
E_RATE_LIMITED: Final = "rate_limited"
E_CHANNEL_FULL: Final = "channel_full"
E_NOT_FOUND: Final = "not_found"
E_INTERNAL: Final = "internal"

# Error codes that end a session when they answer a request (``causes.ERROR_CAUSES``); the
# reference server says these with close codes today, a client understands both.
E_UNAUTHORIZED: Final = "unauthorized"
E_KICKED: Final = "kicked"
E_CHANNEL_DELETED: Final = "channel_deleted"

# --- close codes ------------------------------------------------------------------------
# What each means for a client is in ``causes.CLOSE_CAUSES``.
CLOSE_NORMAL: Final = 1000  # also sent by proxies and load balancers: not a goodbye
CLOSE_GOING_AWAY: Final = 1001  # server shutdown/restart: clients reconnect
CLOSE_TOO_BIG: Final = 1009
CLOSE_KICKED: Final = 4000  # a moderator removed the user: do not come back
CLOSE_AUTH_EXPIRED: Final = 4001  # the token expired mid-session: refresh it
CLOSE_FORBIDDEN: Final = 4003  # the token does not grant this channel
CLOSE_CHANNEL_DELETED: Final = 4004  # the channel is gone: do not come back
CLOSE_RATE_LIMITED: Final = 4029  # sustained request flood

#: The server's default frame limit (``ptt serve`` closes with 1009 above it) and the
#: largest message body a client may hand it: the envelope and ``msg_id`` fit in the rest.
MAX_FRAME_BYTES: Final = 64 * 1024
MAX_MESSAGE_BYTES: Final = MAX_FRAME_BYTES - 512
