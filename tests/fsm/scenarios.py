"""Every event the machine knows, with the guard scenarios that matter for it (as data)."""

from __future__ import annotations

from typing import Any

from fsm import (
    ConnectRefused,
    ConnectTimeout,
    KeepaliveTimeout,
    LinkError,
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
    "talk_pressed": {"-": {}},
    "talk_released": {"-": {}},
    "send_message": {"-": {"method": "message", "data": {"text": "hi"}}},
    "link_opened": {"-": {}},
    "link_failed": {
        "401": {"error": LinkError(status=401)},
        "403": {"error": LinkError(status=403)},
        "503-retry-after": {"error": LinkError(status=503, retry_after=7.0)},
        "500": {"error": LinkError(status=500)},
        "429": {"error": LinkError(status=429, retry_after=3.0)},
        "refused": {"error": ConnectRefused()},
        "timeout": {"error": ConnectTimeout()},
    },
    "link_lost": {
        "1006-unclean": {"error": LinkError(close_code=1006)},
        "1001-going-away": {"error": LinkError(close_code=1001)},
        "1011": {"error": LinkError(close_code=1011)},
        "1012-restart": {"error": LinkError(close_code=1012)},
        "keepalive": {"error": KeepaliveTimeout()},
        "4000-kicked": {"error": LinkError(close_code=4000, close_reason="kicked")},
        "4004-channel-deleted": {"error": LinkError(close_code=4004)},
        "4001-auth-expired": {"error": LinkError(close_code=4001)},
        "4003-forbidden": {"error": LinkError(close_code=4003)},
    },
    "token_refreshed": {"-": {"value": "fresh-token"}},
    "token_refresh_failed": {"-": {"error": LinkError(status=401)}},
    "step_succeeded": {"-": {"value": {}}},
    "step_failed": {
        "timeout": {"error": OperationTimeout("step took too long")},
        "forbidden": {"error": RequestFailed("join", "forbidden")},
        "transport": {"error": TransportError("ice failed")},
    },
    "retry_due": {"-": {}},
    "session_stable": {"-": {}},
    "deadline_passed": {"-": {"error": OperationTimeout("watchdog")}},
    "media_failed": {"-": {"error": TransportError("no RTP for 3 s")}},
    "floor_granted": {"-": {"data": {"granted": True}, "tx_id": None}},
    "floor_denied": {"-": {"data": {"speaker": "bob"}, "tx_id": None}},
    "floor_revoked": {"-": {"data": {"reason": "max_talk_time"}}},
    "channel_updated": {"-": {"kind": "speakerChanged", "data": {"peer_id": "bob"}}},
    "producer_added": {"-": {"data": {"producer_id": "prod-carol", "peer_id": "carol"}}},
    "producer_closed": {"-": {"data": {"producer_id": "prod-bob", "peer_id": "bob"}}},
    "outbox_due": {"-": {}},
    "message_unconfirmed": {
        "-": {"item": Outgoing("message", {"text": "hi", "msg_id": "m-1"}, 999.0)}
    },
    "message_received": {"-": {"data": {"from": "bob", "data": {"text": "yo"}}}},
}
