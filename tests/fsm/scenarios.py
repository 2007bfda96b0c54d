"""Every event the machine knows, with the guard scenarios that matter for it (as data).

The errors carry protocol-neutral causes, as a backend reports them: the machine's
tests speak the domain, never a wire."""

from __future__ import annotations

from typing import Any

from fsm import (
    AudioSource,
    Cause,
    ChannelMessage,
    ConnectRefused,
    ConnectTimeout,
    FloorAnswer,
    FloorLost,
    Intent,
    KeepaliveTimeout,
    LinkError,
    Member,
    NetworkChange,
    OperationTimeout,
    Outgoing,
    RequestFailed,
    TransportError,
)

#: scenario name -> event data. One event can have several scenarios (401, 403, 5xx...).
SCENARIOS: dict[str, dict[str, dict[str, Any]]] = {
    "connect": {"-": {}, "fresh-token": {"token": "new-token"}},
    "disconnect": {"-": {}},
    "reconnect_now": {"-": {}},
    "network_changed": {
        "up": {"change": NetworkChange.UP},
        "route": {"change": NetworkChange.ROUTE_CHANGED},
        "down": {"change": NetworkChange.DOWN},
    },
    "talk_pressed": {"-": {}},
    "talk_released": {"-": {}},
    "send_message": {"-": {"data": {"text": "hi"}}},
    "link_opened": {"-": {}},
    "link_failed": {
        "401": {"error": LinkError(status=401, cause=Cause.AUTH_INVALID)},
        "403": {"error": LinkError(status=403, cause=Cause.FORBIDDEN)},
        "503-retry-after": {"error": LinkError(status=503, retry_after=7.0)},
        "500": {"error": LinkError(status=500)},
        "429": {"error": LinkError(status=429, retry_after=3.0)},
        "refused": {"error": ConnectRefused()},
        "timeout": {"error": ConnectTimeout()},
    },
    "link_lost": {
        "transient": {"error": LinkError(cause=Cause.TRANSIENT)},
        "going-away": {"error": LinkError(cause=Cause.SERVER_GOING_AWAY)},
        "keepalive": {"error": KeepaliveTimeout()},
        "kicked": {"error": LinkError(cause=Cause.KICKED)},
        "channel-gone": {"error": LinkError(cause=Cause.CHANNEL_GONE)},
        "auth-expired": {"error": LinkError(cause=Cause.AUTH_EXPIRED)},
        "forbidden": {"error": LinkError(cause=Cause.FORBIDDEN)},
    },
    "token_refreshed": {"-": {"value": "fresh-token"}},
    "token_refresh_failed": {"-": {"error": LinkError(status=401, cause=Cause.AUTH_INVALID)}},
    "step_succeeded": {"-": {"value": None}},
    "step_failed": {
        "timeout": {"error": OperationTimeout("step took too long")},
        "forbidden": {"error": RequestFailed("join", Cause.FORBIDDEN)},
        "transport": {"error": TransportError("ice failed")},
    },
    "retry_due": {"-": {}},
    "session_stable": {"-": {}},
    "deadline_passed": {"-": {"error": OperationTimeout("watchdog")}},
    "media_failed": {"-": {"error": TransportError("no RTP for 3 s")}},
    "floor_granted": {"-": {"answer": FloorAnswer("tx-1", granted=True)}},
    "floor_denied": {"-": {"answer": FloorAnswer("tx-1", granted=False, speaker="bob")}},
    "floor_lost": {
        "max-talk-time": {"tx_id": None, "why": FloorLost.MAX_TALK_TIME},
        "stalled": {"tx_id": None, "why": FloorLost.STALLED_UPLINK},
    },
    "talk_time_up": {"-": {"tx_id": "tx-1"}},
    "member_joined": {"-": {"member": Member("carol", "Carol")}},
    "member_left": {"-": {"peer_id": "bob"}},
    "speaker_changed": {"-": {"peer_id": "bob"}},
    "sources_changed": {
        "-": {"sources": (AudioSource("src-bob", "bob"), AudioSource("src-carol", "carol"))}
    },
    "outbox_due": {"-": {}},
    "message_unconfirmed": {
        "-": {"item": Outgoing(Intent.MESSAGE, 999.0, msg_id="m-1", data={"text": "hi"})}
    },
    "message_received": {"-": {"message": ChannelMessage({"text": "yo"}, "bob")}},
}
