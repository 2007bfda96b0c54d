"""The session steps, in the order the product requires, and the plan that picks them.

The same plan establishes a session (``connecting``) and restores one (``reconnecting``);
steps that turn out unnecessary at run time (a media rebuild after a signal-only resume,
a floor request when the button is not held) complete at once as *skipped*, so the plan's
length, and therefore the "last step" guard, is known when the plan starts.
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    JOIN = "join"  # rejoin the channel, or resume the server-kept session
    LOAD_CAPABILITIES = "load_capabilities"  # router RTP capabilities
    CLOSE_TRANSPORTS = "close_transports"  # the old ones, unless resuming signal-only
    CREATE_TRANSPORTS = "create_transports"  # send + recv
    OPEN_AUDIO = "open_audio"  # microphone and speaker devices (once per session)
    PRODUCE = "produce"  # the microphone, paused
    CONSUME = "consume"  # one consumer per active remote producer
    REQUEST_FLOOR = "request_floor"  # only if the user still holds the talk button
    FLUSH_OUTBOX = "flush_outbox"  # release what was queued during the outage


MEDIA_STEPS = (
    Step.LOAD_CAPABILITIES,
    Step.CLOSE_TRANSPORTS,
    Step.CREATE_TRANSPORTS,
    Step.OPEN_AUDIO,
    Step.PRODUCE,
    Step.CONSUME,
)

#: Failures of these steps leave the session usable: continue, end in ``connected.degraded``.
DEGRADABLE = frozenset({Step.PRODUCE, Step.CONSUME, Step.REQUEST_FLOOR})

#: These steps are retried once on failure before the machine gives up.
RETRIED_ONCE = frozenset({Step.CREATE_TRANSPORTS})

#: Steps skipped when the server resumed our session and our transports are still alive.
MEDIA_REBUILD = frozenset(
    {Step.LOAD_CAPABILITIES, Step.CLOSE_TRANSPORTS, Step.CREATE_TRANSPORTS, Step.PRODUCE}
)


def session_plan(*, media: bool) -> tuple[Step, ...]:
    """Every step of a session setup, in order."""
    middle = MEDIA_STEPS if media else ()
    return (Step.JOIN, *middle, Step.REQUEST_FLOOR, Step.FLUSH_OUTBOX)
