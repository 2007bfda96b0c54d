"""The expected transition table: (state, event, scenario) -> (target, port calls).

Written as data and reviewed row by row against the product rules; any (state, event,
scenario) not listed here must be rejected: no transition, no port call, state unchanged.
Port calls are the fakes' ``port.method`` names, in order: the machine speaks the domain
(``signaling.join``, ``signaling.request_floor``, ``media.connect``...), never a wire.
"""

from __future__ import annotations

EXPECTED: dict[tuple[str, str, str], tuple[str, list[str]]] = {
    ("idle", "connect", "-"): ("connecting.dialing", ["signaling.open"]),
    ("idle", "connect", "fresh-token"): ("connecting.dialing", ["signaling.open"]),
    ("idle", "disconnect", "-"): ("disconnected", ["media.close"]),
    ("connecting.dialing", "disconnect", "-"): ("disconnected", ["signaling.close", "media.close"]),
    ("connecting.dialing", "talk_pressed", "-"): ("connecting.dialing", []),
    ("connecting.dialing", "talk_released", "-"): ("connecting.dialing", []),
    ("connecting.dialing", "send_message", "-"): ("connecting.dialing", []),
    ("connecting.dialing", "link_opened", "-"): ("connecting.establishing", ["signaling.join"]),
    ("connecting.dialing", "link_failed", "401"): (
        "connecting.authenticating",
        ["signaling.close", "tokens.refresh"],
    ),
    ("connecting.dialing", "link_failed", "403"): ("error", ["signaling.close", "media.close"]),
    ("connecting.dialing", "link_failed", "429"): ("reconnecting.backing_off", ["signaling.close"]),
    ("connecting.dialing", "link_failed", "500"): ("reconnecting.backing_off", ["signaling.close"]),
    ("connecting.dialing", "link_failed", "503-retry-after"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
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
    ("connecting.dialing", "message_unconfirmed", "-"): ("connecting.dialing", []),
    ("connecting.authenticating", "disconnect", "-"): ("disconnected", ["media.close"]),
    ("connecting.authenticating", "talk_pressed", "-"): ("connecting.authenticating", []),
    ("connecting.authenticating", "talk_released", "-"): ("connecting.authenticating", []),
    ("connecting.authenticating", "send_message", "-"): ("connecting.authenticating", []),
    ("connecting.authenticating", "token_refreshed", "-"): (
        "connecting.dialing",
        ["signaling.open"],
    ),
    ("connecting.authenticating", "token_refresh_failed", "-"): ("error", ["media.close"]),
    ("connecting.authenticating", "deadline_passed", "-"): ("error", ["media.close"]),
    ("connecting.authenticating", "message_unconfirmed", "-"): ("connecting.authenticating", []),
    ("connecting.establishing", "disconnect", "-"): (
        "disconnected",
        ["signaling.leave", "signaling.close", "media.close"],
    ),
    ("connecting.establishing", "talk_pressed", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "talk_released", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "send_message", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "link_lost", "auth-expired"): (
        "connecting.authenticating",
        ["tokens.refresh"],
    ),
    ("connecting.establishing", "link_lost", "channel-gone"): ("disconnected", ["media.close"]),
    ("connecting.establishing", "link_lost", "forbidden"): ("error", ["media.close"]),
    ("connecting.establishing", "link_lost", "going-away"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "keepalive"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "link_lost", "kicked"): ("disconnected", ["media.close"]),
    ("connecting.establishing", "link_lost", "transient"): ("reconnecting.backing_off", []),
    ("connecting.establishing", "step_succeeded", "-"): (
        "connecting.establishing",
        ["media.close", "media.connect"],
    ),
    ("connecting.establishing", "step_failed", "forbidden"): (
        "error",
        ["signaling.close", "media.close"],
    ),
    ("connecting.establishing", "step_failed", "timeout"): (
        "reconnecting.backing_off",
        ["signaling.close"],
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
    ("connecting.establishing", "member_joined", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "member_left", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "speaker_changed", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "sources_changed", "-"): ("connecting.establishing", []),
    ("connecting.establishing", "message_unconfirmed", "-"): ("connecting.establishing", []),
    ("connected.ready", "disconnect", "-"): (
        "disconnected",
        ["signaling.leave", "signaling.close", "media.close", "audio.stop"],
    ),
    ("connected.ready", "talk_pressed", "-"): ("connected.ready", ["signaling.request_floor"]),
    ("connected.ready", "talk_released", "-"): ("connected.ready", ["media.set_transmitting"]),
    ("connected.ready", "send_message", "-"): ("connected.ready", ["signaling.send_message"]),
    ("connected.ready", "link_lost", "auth-expired"): (
        "reconnecting.reauthenticating",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone", "tokens.refresh"],
    ),
    ("connected.ready", "link_lost", "channel-gone"): (
        "disconnected",
        ["media.close", "audio.stop"],
    ),
    ("connected.ready", "link_lost", "forbidden"): ("error", ["media.close", "audio.stop"]),
    ("connected.ready", "link_lost", "going-away"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "keepalive"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "link_lost", "kicked"): ("disconnected", ["media.close", "audio.stop"]),
    ("connected.ready", "link_lost", "transient"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone"],
    ),
    ("connected.ready", "session_stable", "-"): ("connected.ready", []),
    ("connected.ready", "media_failed", "-"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone", "signaling.close"],
    ),
    ("connected.ready", "floor_granted", "-"): ("connected.ready", []),
    ("connected.ready", "floor_denied", "-"): ("connected.ready", []),
    ("connected.ready", "floor_lost", "max-talk-time"): ("connected.ready", []),
    ("connected.ready", "floor_lost", "stalled"): ("connected.ready", []),
    ("connected.ready", "member_joined", "-"): ("connected.ready", []),
    ("connected.ready", "member_left", "-"): ("connected.ready", []),
    ("connected.ready", "speaker_changed", "-"): ("connected.ready", ["media.expect_audio"]),
    ("connected.ready", "sources_changed", "-"): ("connected.ready", ["media.follow"]),
    ("connected.ready", "outbox_due", "-"): ("connected.ready", []),
    ("connected.ready", "message_unconfirmed", "-"): (
        "connected.ready",
        ["signaling.send_message"],
    ),
    ("connected.ready", "message_received", "-"): ("connected.ready", []),
    ("connected.degraded", "disconnect", "-"): (
        "disconnected",
        ["signaling.leave", "signaling.close", "media.close", "audio.stop"],
    ),
    ("connected.degraded", "talk_pressed", "-"): (
        "connected.degraded",
        ["signaling.request_floor"],
    ),
    ("connected.degraded", "talk_released", "-"): (
        "connected.degraded",
        ["media.set_transmitting"],
    ),
    ("connected.degraded", "send_message", "-"): ("connected.degraded", ["signaling.send_message"]),
    ("connected.degraded", "link_lost", "auth-expired"): (
        "reconnecting.reauthenticating",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone", "tokens.refresh"],
    ),
    ("connected.degraded", "link_lost", "channel-gone"): (
        "disconnected",
        ["media.close", "audio.stop"],
    ),
    ("connected.degraded", "link_lost", "forbidden"): ("error", ["media.close", "audio.stop"]),
    ("connected.degraded", "link_lost", "going-away"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "keepalive"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "link_lost", "kicked"): ("disconnected", ["media.close", "audio.stop"]),
    ("connected.degraded", "link_lost", "transient"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone"],
    ),
    ("connected.degraded", "session_stable", "-"): ("connected.degraded", []),
    ("connected.degraded", "media_failed", "-"): (
        "reconnecting.backing_off",
        ["media.set_transmitting", "media.expect_audio", "audio.play_tone", "signaling.close"],
    ),
    ("connected.degraded", "floor_granted", "-"): ("connected.degraded", []),
    ("connected.degraded", "floor_denied", "-"): ("connected.degraded", []),
    ("connected.degraded", "floor_lost", "max-talk-time"): ("connected.degraded", []),
    ("connected.degraded", "floor_lost", "stalled"): ("connected.degraded", []),
    ("connected.degraded", "member_joined", "-"): ("connected.degraded", []),
    ("connected.degraded", "member_left", "-"): ("connected.degraded", []),
    ("connected.degraded", "speaker_changed", "-"): ("connected.degraded", ["media.expect_audio"]),
    ("connected.degraded", "sources_changed", "-"): ("connected.degraded", ["media.follow"]),
    ("connected.degraded", "outbox_due", "-"): ("connected.degraded", []),
    ("connected.degraded", "message_unconfirmed", "-"): (
        "connected.degraded",
        ["signaling.send_message"],
    ),
    ("connected.degraded", "message_received", "-"): ("connected.degraded", []),
    ("reconnecting.backing_off", "disconnect", "-"): (
        "disconnected",
        ["media.close", "audio.stop"],
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
    ("reconnecting.backing_off", "message_unconfirmed", "-"): ("reconnecting.backing_off", []),
    ("reconnecting.redialing", "disconnect", "-"): (
        "disconnected",
        ["signaling.close", "media.close", "audio.stop"],
    ),
    ("reconnecting.redialing", "talk_pressed", "-"): ("reconnecting.redialing", []),
    ("reconnecting.redialing", "talk_released", "-"): ("reconnecting.redialing", []),
    ("reconnecting.redialing", "send_message", "-"): ("reconnecting.redialing", []),
    ("reconnecting.redialing", "link_opened", "-"): ("reconnecting.restoring", ["signaling.join"]),
    ("reconnecting.redialing", "link_failed", "401"): (
        "reconnecting.reauthenticating",
        ["signaling.close", "tokens.refresh"],
    ),
    ("reconnecting.redialing", "link_failed", "403"): (
        "error",
        ["signaling.close", "media.close", "audio.stop"],
    ),
    ("reconnecting.redialing", "link_failed", "429"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "link_failed", "500"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.redialing", "link_failed", "503-retry-after"): (
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
    ("reconnecting.redialing", "message_unconfirmed", "-"): ("reconnecting.redialing", []),
    ("reconnecting.reauthenticating", "disconnect", "-"): (
        "disconnected",
        ["media.close", "audio.stop"],
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
        ["media.close", "audio.stop"],
    ),
    ("reconnecting.reauthenticating", "deadline_passed", "-"): (
        "error",
        ["media.close", "audio.stop"],
    ),
    ("reconnecting.reauthenticating", "media_failed", "-"): ("reconnecting.reauthenticating", []),
    ("reconnecting.reauthenticating", "message_unconfirmed", "-"): (
        "reconnecting.reauthenticating",
        [],
    ),
    ("reconnecting.restoring", "disconnect", "-"): (
        "disconnected",
        ["signaling.leave", "signaling.close", "media.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "talk_pressed", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "talk_released", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "send_message", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "link_lost", "auth-expired"): (
        "reconnecting.reauthenticating",
        ["tokens.refresh"],
    ),
    ("reconnecting.restoring", "link_lost", "channel-gone"): (
        "disconnected",
        ["media.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "link_lost", "forbidden"): ("error", ["media.close", "audio.stop"]),
    ("reconnecting.restoring", "link_lost", "going-away"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "keepalive"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "link_lost", "kicked"): (
        "disconnected",
        ["media.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "link_lost", "transient"): ("reconnecting.backing_off", []),
    ("reconnecting.restoring", "step_succeeded", "-"): (
        "reconnecting.restoring",
        ["media.close", "media.connect"],
    ),
    ("reconnecting.restoring", "step_failed", "forbidden"): (
        "error",
        ["signaling.close", "media.close", "audio.stop"],
    ),
    ("reconnecting.restoring", "step_failed", "timeout"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.restoring", "step_failed", "transport"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.restoring", "media_failed", "-"): (
        "reconnecting.backing_off",
        ["signaling.close"],
    ),
    ("reconnecting.restoring", "member_joined", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "member_left", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "speaker_changed", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "sources_changed", "-"): ("reconnecting.restoring", []),
    ("reconnecting.restoring", "message_unconfirmed", "-"): ("reconnecting.restoring", []),
    ("disconnected", "connect", "-"): ("connecting.dialing", ["signaling.open"]),
    ("disconnected", "connect", "fresh-token"): ("connecting.dialing", ["signaling.open"]),
    ("error", "connect", "-"): ("connecting.dialing", ["signaling.open"]),
    ("error", "connect", "fresh-token"): ("connecting.dialing", ["signaling.open"]),
    ("error", "disconnect", "-"): ("disconnected", ["media.close"]),
    # --- the network watcher: skip the wait while backing off, probe while connected ---
    ("reconnecting.backing_off", "network_changed", "up"): (
        "reconnecting.redialing",
        ["signaling.open"],
    ),
    ("reconnecting.backing_off", "network_changed", "route"): (
        "reconnecting.redialing",
        ["signaling.open"],
    ),
    ("connected.ready", "network_changed", "up"): ("connected.ready", ["signaling.probe"]),
    ("connected.ready", "network_changed", "route"): ("connected.ready", ["signaling.probe"]),
    ("connected.ready", "network_changed", "down"): ("connected.ready", ["signaling.probe"]),
    ("connected.degraded", "network_changed", "up"): ("connected.degraded", ["signaling.probe"]),
    ("connected.degraded", "network_changed", "route"): (
        "connected.degraded",
        ["signaling.probe"],
    ),
    ("connected.degraded", "network_changed", "down"): (
        "connected.degraded",
        ["signaling.probe"],
    ),
}
