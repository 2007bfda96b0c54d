"""The expected transition table: (state, event, scenario) -> (target, adapter calls).

Written as data and reviewed row by row against the product rules; any (state, event,
scenario) not listed here must be rejected: no transition, no adapter call, state unchanged.
Adapter calls are the fakes' ``port.method`` names, in order.
"""

from __future__ import annotations

EXPECTED: dict[tuple[str, str, str], tuple[str, list[str]]] = {
    ("idle", "connect", "-"): ("connecting.dialing", ["signaling.open"]),
    ("idle", "connect", "fresh-token"): ("connecting.dialing", ["signaling.open"]),
    ("idle", "disconnect", "-"): ("disconnected", ["transports.close"]),
    ("connecting.dialing", "disconnect", "-"): (
        "disconnected",
        ["signaling.close", "transports.close"],
    ),
    ("connecting.dialing", "talk_pressed", "-"): ("connecting.dialing", []),
    ("connecting.dialing", "talk_released", "-"): ("connecting.dialing", []),
    ("connecting.dialing", "send_message", "-"): ("connecting.dialing", []),
    ("connecting.dialing", "link_opened", "-"): ("connecting.establishing", ["signaling.request"]),
    ("connecting.dialing", "link_failed", "401"): (
        "connecting.authenticating",
        ["signaling.close", "tokens.refresh"],
    ),
    ("connecting.dialing", "link_failed", "403"): (
        "error",
        ["signaling.close", "transports.close"],
    ),
    ("connecting.dialing", "link_failed", "503-retry-after"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.dialing", "link_failed", "500"): ("reconnecting.backing_off", ["signaling.close"]),
    ("connecting.dialing", "link_failed", "429"): ("reconnecting.backing_off", ["signaling.close"]),
    ("connecting.dialing", "link_failed", "refused"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.dialing", "link_failed", "timeout"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.dialing", "deadline_passed", "-"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.authenticating", "disconnect", "-"): ("disconnected", ["transports.close"]),
    ("connecting.authenticating", "talk_pressed", "-"): ("connecting.authenticating", []),
    ("connecting.authenticating", "talk_released", "-"): ("connecting.authenticating", []),
    ("connecting.authenticating", "send_message", "-"): ("connecting.authenticating", []),
    ("connecting.authenticating", "token_refreshed", "-"): (
        "connecting.dialing",
        ["signaling.open"],
    ),
    ("connecting.authenticating", "token_refresh_failed", "-"): ("error", ["transports.close"]),
    ("connecting.authenticating", "deadline_passed", "-"): ("error", ["transports.close"]),
    ("connecting.establishing", "disconnect", "-"): (
        "disconnected",
        ["signaling.request", "signaling.close", "transports.close"],
    ),
    ("connecting.establishing", "talk_pressed", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "talk_released", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "send_message", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "link_lost", "1006-unclean"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "1001-going-away"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "1011"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "1012-restart"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "keepalive"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "4000-kicked"): ("disconnected", ["transports.close"]),
    ("connecting.establishing", "link_lost", "4004-channel-deleted"): (
        "disconnected",
        ["transports.close"],
    ),
    ("connecting.establishing", "link_lost", "4001-auth-expired"): (
        "connecting.authenticating",
        ["tokens.refresh"],
    ),
    ("connecting.establishing", "link_lost", "4003-forbidden"): ("error", ["transports.close"]),
    ("connecting.establishing", "step_succeeded", "-"): (
        "connecting.establishing",
        ["signaling.request"],
    ),
    ("connecting.establishing", "step_failed", "timeout"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.establishing", "step_failed", "forbidden"): (
        "error",
        ["signaling.close", "transports.close"],
    ),
    ("connecting.establishing", "step_failed", "transport"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.establishing", "deadline_passed", "-"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.establishing", "media_failed", "-"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("connecting.establishing", "channel_updated", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "producer_added", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "producer_closed", "-"): ("connecting.establishing", []),
    ("connected.ready", "disconnect", "-"): (
        "disconnected",
        ["signaling.request", "signaling.close", "transports.close", "audio.stop"],
    ),
    ("connected.ready", "talk_pressed", "-"): ("connected.ready", ["signaling.request"]),
    ("connected.ready", "talk_released", "-"): ("connected.ready", ["transports.set_transmitting"]),
    ("connected.ready", "send_message", "-"): ("connected.ready", ["signaling.request"]),
    ("connected.ready", "link_lost", "1006-unclean"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "1001-going-away"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "1011"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "1012-restart"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "keepalive"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "4000-kicked"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("connected.ready", "link_lost", "4004-channel-deleted"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("connected.ready", "link_lost", "4001-auth-expired"): (
        "reconnecting.reauthenticating",
        [
            "transports.set_transmitting",
            "transports.expect_audio",
            "audio.play_tone",
            "tokens.refresh",
        ],
    ),
    ("connected.ready", "link_lost", "4003-forbidden"): (
        "error",
        ["transports.close", "audio.stop"],
    ),
    ("connected.ready", "session_stable", "-"): ("connected.ready", []),
    ("connected.ready", "media_failed", "-"): (
        "reconnecting.backing_off",
        [
            "transports.set_transmitting",
            "transports.expect_audio",
            "audio.play_tone",
            "signaling.close",
        ],
    ),
    ("connected.ready", "floor_granted", "-"): ("connected.ready", ["signaling.request"]),
    ("connected.ready", "floor_denied", "-"): ("connected.ready", []),
    ("connected.ready", "floor_revoked", "-"): ("connected.ready", []),
    ("connected.ready", "channel_updated", "-"): ("connected.ready", ["transports.expect_audio"]),
    ("connected.ready", "producer_added", "-"): ("connected.ready", ["transports.consume"]),
    ("connected.ready", "producer_closed", "-"): ("connected.ready", ["transports.consume"]),
    ("connected.ready", "message_received", "-"): ("connected.ready", []),
    ("connected.degraded", "disconnect", "-"): (
        "disconnected",
        ["signaling.request", "signaling.close", "transports.close", "audio.stop"],
    ),
    ("connected.degraded", "talk_pressed", "-"): ("connected.degraded", ["signaling.request"]),
    ("connected.degraded", "talk_released", "-"): (
        "connected.degraded",
        ["transports.set_transmitting"],
    ),
    ("connected.degraded", "send_message", "-"): ("connected.degraded", ["signaling.request"]),
    ("connected.degraded", "link_lost", "1006-unclean"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "1001-going-away"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "1011"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "1012-restart"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "keepalive"): (
        "reconnecting.backing_off",
        ["transports.set_transmitting", "transports.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "4000-kicked"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("connected.degraded", "link_lost", "4004-channel-deleted"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("connected.degraded", "link_lost", "4001-auth-expired"): (
        "reconnecting.reauthenticating",
        [
            "transports.set_transmitting",
            "transports.expect_audio",
            "audio.play_tone",
            "tokens.refresh",
        ],
    ),
    ("connected.degraded", "link_lost", "4003-forbidden"): (
        "error",
        ["transports.close", "audio.stop"],
    ),
    ("connected.degraded", "session_stable", "-"): ("connected.degraded", []),
    ("connected.degraded", "media_failed", "-"): (
        "reconnecting.backing_off",
        [
            "transports.set_transmitting",
            "transports.expect_audio",
            "audio.play_tone",
            "signaling.close",
        ],
    ),
    ("connected.degraded", "floor_granted", "-"): ("connected.degraded", ["signaling.request"]),
    ("connected.degraded", "floor_denied", "-"): ("connected.degraded", []),
    ("connected.degraded", "floor_revoked", "-"): ("connected.degraded", []),
    ("connected.degraded", "channel_updated", "-"): (
        "connected.degraded",
        ["transports.expect_audio"],
    ),
    ("connected.degraded", "producer_added", "-"): ("connected.degraded", ["transports.consume"]),
    ("connected.degraded", "producer_closed", "-"): ("connected.degraded", ["transports.consume"]),
    ("connected.degraded", "message_received", "-"): ("connected.degraded", []),
    ("reconnecting.backing_off", "disconnect", "-"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.backing_off", "reconnect_now", "-"): (
        "reconnecting.redialing",
        ["signaling.open"],
    ),
    ("reconnecting.backing_off", "talk_pressed", "-"): ("reconnecting.backing_off", []),
    ("reconnecting.backing_off", "talk_released", "-"): ("reconnecting.backing_off", []),
    ("reconnecting.backing_off", "send_message", "-"): ("reconnecting.backing_off", []),
    ("reconnecting.backing_off", "retry_due", "-"): ("reconnecting.redialing", ["signaling.open"]),
    ("reconnecting.backing_off", "media_failed", "-"): ("reconnecting.backing_off", []),
    ("reconnecting.redialing", "disconnect", "-"): (
        "disconnected",
        ["signaling.close", "transports.close", "audio.stop"],
    ),
    ("reconnecting.redialing", "talk_pressed", "-"): ("reconnecting.redialing", []),
    ("reconnecting.redialing", "talk_released", "-"): ("reconnecting.redialing", []),
    ("reconnecting.redialing", "send_message", "-"): ("reconnecting.redialing", []),
    ("reconnecting.redialing", "link_opened", "-"): (
        "reconnecting.restoring",
        ["signaling.request"],
    ),
    ("reconnecting.redialing", "link_failed", "401"): (
        "reconnecting.reauthenticating",
        ["signaling.close", "tokens.refresh"],
    ),
    ("reconnecting.redialing", "link_failed", "403"): (
        "error",
        ["signaling.close", "transports.close", "audio.stop"],
    ),
    ("reconnecting.redialing", "link_failed", "503-retry-after"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "link_failed", "500"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "link_failed", "429"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "link_failed", "refused"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "link_failed", "timeout"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "deadline_passed", "-"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "media_failed", "-"): ("reconnecting.redialing", []),
    ("reconnecting.reauthenticating", "disconnect", "-"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.reauthenticating", "talk_pressed", "-"): ("reconnecting.reauthenticating", []),
    ("reconnecting.reauthenticating", "talk_released", "-"): ("reconnecting.reauthenticating", []),
    ("reconnecting.reauthenticating", "send_message", "-"): ("reconnecting.reauthenticating", []),
    ("reconnecting.reauthenticating", "token_refreshed", "-"): (
        "reconnecting.redialing",
        ["signaling.open"],
    ),
    ("reconnecting.reauthenticating", "token_refresh_failed", "-"): (
        "error",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.reauthenticating", "deadline_passed", "-"): (
        "error",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.reauthenticating", "media_failed", "-"): ("reconnecting.reauthenticating", []),
    ("reconnecting.restoring", "disconnect", "-"): (
        "disconnected",
        ["signaling.request", "signaling.close", "transports.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "talk_pressed", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "talk_released", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "send_message", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "link_lost", "1006-unclean"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "1001-going-away"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "1011"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "1012-restart"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "keepalive"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "4000-kicked"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "link_lost", "4004-channel-deleted"): (
        "disconnected",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "link_lost", "4001-auth-expired"): (
        "reconnecting.reauthenticating",
        ["tokens.refresh"],
    ),
    ("reconnecting.restoring", "link_lost", "4003-forbidden"): (
        "error",
        ["transports.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "step_succeeded", "-"): (
        "reconnecting.restoring",
        ["signaling.request"],
    ),
    ("reconnecting.restoring", "step_failed", "timeout"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.restoring", "step_failed", "forbidden"): (
        "error",
        ["signaling.close", "transports.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "step_failed", "transport"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.restoring", "media_failed", "-"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.restoring", "channel_updated", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "producer_added", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "producer_closed", "-"): ("reconnecting.restoring", []),
    ("disconnected", "connect", "-"): ("connecting.dialing", ["signaling.open"]),
    ("disconnected", "connect", "fresh-token"): ("connecting.dialing", ["signaling.open"]),
    ("error", "connect", "-"): ("connecting.dialing", ["signaling.open"]),
    ("error", "connect", "fresh-token"): ("connecting.dialing", ["signaling.open"]),
    ("error", "disconnect", "-"): ("disconnected", ["transports.close"]),
    ("connecting.dialing", "message_unconfirmed", "-"): ("connecting.dialing", []),
    ("connecting.authenticating", "message_unconfirmed", "-"): ("connecting.authenticating", []),
    ("connecting.establishing", "message_unconfirmed", "-"): ("connecting.establishing", []),
    ("connected.ready", "message_unconfirmed", "-"): ("connected.ready", ["signaling.request"]),
    ("connected.degraded", "message_unconfirmed", "-"): (
        "connected.degraded",
        ["signaling.request"],
    ),
    ("reconnecting.backing_off", "message_unconfirmed", "-"): ("reconnecting.backing_off", []),
    ("reconnecting.redialing", "message_unconfirmed", "-"): ("reconnecting.redialing", []),
    ("reconnecting.reauthenticating", "message_unconfirmed", "-"): (
        "reconnecting.reauthenticating",
        [],
    ),
    ("reconnecting.restoring", "message_unconfirmed", "-"): ("reconnecting.restoring", []),
    ("connected.ready", "outbox_due", "-"): ("connected.ready", []),
    ("connected.degraded", "outbox_due", "-"): ("connected.degraded", []),
}
