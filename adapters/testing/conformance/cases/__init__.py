"""Every conformance case, in the order they run: plain async functions of a harness."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..harness import ConformanceHarness
from .floor import (
    floor_collision,
    floor_grant_deny_release,
    floor_lost_reported,
    release_is_idempotent,
    speaker_changes,
)
from .hygiene import (
    close_while_opening,
    no_leaks_after_close,
    replies_answered_on_close,
    silent_after_close,
)
from .link import link_loss_reported_once, resume_after_loss
from .media import media_close, sources_full_set
from .messages import messages_round_trip
from .session import bad_token_rejected, join_with_unknown_resume_id, members_seen, open_join_leave

Case = Callable[[ConformanceHarness], Awaitable[None]]

CASES: tuple[Case, ...] = (
    open_join_leave,
    members_seen,
    bad_token_rejected,
    join_with_unknown_resume_id,
    speaker_changes,
    floor_grant_deny_release,
    floor_collision,
    floor_lost_reported,
    release_is_idempotent,
    messages_round_trip,
    link_loss_reported_once,
    resume_after_loss,
    sources_full_set,
    media_close,
    close_while_opening,
    silent_after_close,
    replies_answered_on_close,
    no_leaks_after_close,
)

__all__ = [
    "CASES",
    "Case",
    "bad_token_rejected",
    "close_while_opening",
    "floor_collision",
    "floor_grant_deny_release",
    "floor_lost_reported",
    "join_with_unknown_resume_id",
    "link_loss_reported_once",
    "media_close",
    "members_seen",
    "messages_round_trip",
    "no_leaks_after_close",
    "open_join_leave",
    "release_is_idempotent",
    "replies_answered_on_close",
    "resume_after_loss",
    "silent_after_close",
    "sources_full_set",
    "speaker_changes",
]
