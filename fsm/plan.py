"""The session plan: the steps that establish a session (``connecting``) and restore one
(``reconnecting``), in the order the product requires, and the progress through them.

Steps that turn out unnecessary at run time (a media rebuild after a signal-only resume,
a floor request when the button is not held) complete at once as *skipped*, so the plan's
length, and therefore the "last step" guard, is known when the plan starts. The plan
adapts to what the backend supports: a backend that cannot resume never skips the rebuild.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

from .domain import Features


class Step(StrEnum):
    JOIN = "join"  # join the channel, or resume the server-kept session
    CLOSE_MEDIA = "close_media"  # the old media path, unless resuming signal-only
    CONNECT_MEDIA = "connect_media"  # a fresh media path (transports, a peer connection)
    OPEN_AUDIO = "open_audio"  # microphone and speaker devices (once per session)
    ATTACH_MICROPHONE = "attach_microphone"  # send the microphone, muted
    FOLLOW_SOURCES = "follow_sources"  # receive every current remote audio source
    REQUEST_FLOOR = "request_floor"  # only if the user still holds the talk button
    FLUSH_OUTBOX = "flush_outbox"  # release what was queued during the outage


MEDIA_STEPS = (
    Step.CLOSE_MEDIA,
    Step.CONNECT_MEDIA,
    Step.OPEN_AUDIO,
    Step.ATTACH_MICROPHONE,
    Step.FOLLOW_SOURCES,
)

#: Failures of these steps leave the session usable: continue, end in ``connected.degraded``.
DEGRADABLE = frozenset({Step.ATTACH_MICROPHONE, Step.FOLLOW_SOURCES, Step.REQUEST_FLOOR})

#: These steps are retried once on failure before the machine gives up.
RETRIED_ONCE = frozenset({Step.CONNECT_MEDIA})

#: Steps skipped when the server resumed our session and our media path is still alive.
MEDIA_REBUILD = frozenset({Step.CLOSE_MEDIA, Step.CONNECT_MEDIA, Step.ATTACH_MICROPHONE})


def session_plan(*, media: bool) -> tuple[Step, ...]:
    """Every step of a session setup, in order."""
    middle = MEDIA_STEPS if media else ()
    return (Step.JOIN, *middle, Step.REQUEST_FLOOR, Step.FLUSH_OUTBOX)


@dataclass
class Plan:
    """One run of the session plan: where we are, what was retried, what the join said."""

    steps: tuple[Step, ...] = ()
    index: int = 0
    retries: dict[Step, int] = field(default_factory=dict)
    degraded_reason: str | None = None
    #: The server gave our session back (decided by the join).
    resumed: bool = False
    #: This run skips the media rebuild: resumed, and the media path survived the outage.
    signal_only: bool = False

    @classmethod
    def start(cls, *, media: bool) -> Plan:
        return cls(steps=session_plan(media=media))

    @property
    def current(self) -> Step:
        return self.steps[self.index]

    @property
    def has_next(self) -> bool:
        return self.index + 1 < len(self.steps)

    def advance(self) -> Step:
        self.index += 1
        return self.current

    def note_retry(self) -> None:
        self.retries[self.current] = self.retries.get(self.current, 0) + 1

    def may_retry(self) -> bool:
        return self.current in RETRIED_ONCE and self.retries.get(self.current, 0) == 0

    def exhausted(self) -> bool:
        return self.current in RETRIED_ONCE and self.retries.get(self.current, 0) >= 1

    def decide_resume(self, *, resumed: bool, media_alive: bool, features: Features) -> None:
        """Decided once per run, from what survived the outage: a rebuild must run to its
        end, although the media it connects is alive again when later steps run."""
        self.resumed = resumed
        self.signal_only = features.resume and resumed and media_alive

    def skips(self, step: Step) -> bool:
        return self.signal_only and step in MEDIA_REBUILD


def plan_mermaid() -> str:
    """The session plan as a Mermaid flowchart: every step in order, which ones a
    signal-only resume skips, which may fail without failing the session, which are
    retried once. Generated, like the chart's diagram, never drawn by hand."""
    lines = ["flowchart TD"]
    steps = session_plan(media=True)
    for step in steps:
        notes = []
        if step in MEDIA_REBUILD:
            notes.append("skipped on a signal-only resume")
        if step in DEGRADABLE:
            notes.append("may fail: connected.degraded")
        if step in RETRIED_ONCE:
            notes.append("retried once")
        if step in MEDIA_STEPS:
            notes.append("media only")
        label = step.value + "".join(f"<br/><i>{n}</i>" for n in notes)
        lines.append(f'    {step.value}["{label}"]')
    for first, second in itertools.pairwise(steps):
        lines.append(f"    {first.value} --> {second.value}")
    return "\n".join(lines) + "\n"
