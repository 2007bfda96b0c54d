"""The kit fails a backend that breaks the rule a case is about (one mutant per case)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from adapters.testing.conformance import CASES, Case, ConformanceError
from adapters.testing.conformance.cases import (
    bad_token_rejected,
    close_while_opening,
    floor_collision,
    floor_grant_deny_release,
    floor_lost_reported,
    join_with_unknown_resume_id,
    link_loss_reported_once,
    media_close,
    members_seen,
    messages_round_trip,
    no_leaks_after_close,
    open_join_leave,
    release_is_idempotent,
    replies_answered_on_close,
    resume_after_loss,
    silent_after_close,
    sources_full_set,
    speaker_changes,
)

from . import mutants as m

#: (case, signaling mutant, media mutant, what the failure must say)
KILLS: list[tuple[Case, type[m.Sig], type[m.Med], str]] = [
    (open_join_leave, m.NotAmongMembers, m.Med, "lacks our own peer id"),
    (open_join_leave, m.DoubleJoinReply, m.Med, "join reply was called 2 times"),
    (members_seen, m.NoMemberJoined, m.Med, "no member_joined"),
    (bad_token_rejected, m.NoAuthCause, m.Med, "want an auth Cause"),
    (join_with_unknown_resume_id, m.ClaimsResumed, m.Med, "unknown resume id answered"),
    (speaker_changes, m.NoSpeakerNone, m.Med, r"no speaker_changed\(None\)"),
    (floor_grant_deny_release, m.AlwaysGranted, m.Med, "granted while another member held it"),
    (floor_collision, m.AlwaysGranted, m.Med, "granted the floor to both"),
    (floor_lost_reported, m.WrongLossReason, m.Med, "revocation reported as"),
    (release_is_idempotent, m.SyncFloorReply, m.Med, "synchronously inside request_floor"),
    (messages_round_trip, m.GarbledMessage, m.Med, "arrived as"),
    (link_loss_reported_once, m.LostTwice, m.Med, "more than once|called after lost"),
    (resume_after_loss, m.ForgetsResume, m.Med, "did not resume"),
    (sources_full_set, m.DeltaSources, m.Med, "full set carrying bob and carol"),
    (media_close, m.Sig, m.ImmortalMedia, r"still True after close"),
    (close_while_opening, m.OpenSurvivesClose, m.Med, "after close"),
    (silent_after_close, m.CallbackAfterClose, m.Med, "after close"),
    (replies_answered_on_close, m.DropsRepliesAtClose, m.Med, "was not called within"),
    (no_leaks_after_close, m.NeverCloses, m.Med, "left behind by a closed session"),
]


def test_every_case_has_a_mutant() -> None:
    """Each case is shown to fail against at least one broken backend."""
    assert {kill[0] for kill in KILLS} == set(CASES)


@pytest.fixture
async def harnesses() -> AsyncIterator[list[m.MutantHarness]]:
    started: list[m.MutantHarness] = []
    yield started
    for harness in started:
        await harness.stop()


@pytest.mark.parametrize(
    ("case", "signaling", "media", "message"),
    KILLS,
    ids=[f"{k[0].__name__}-{(k[1] if k[1] is not m.Sig else k[2]).__name__}" for k in KILLS],
)
async def test_case_catches_mutant(
    harnesses: list[m.MutantHarness],
    case: Case,
    signaling: type[m.Sig],
    media: type[m.Med],
    message: str,
) -> None:
    """The case fails, saying why, against a backend broken in exactly its rule."""
    harness = m.MutantHarness(m.MutantBackend(signaling, media))
    harnesses.append(harness)
    await harness.start()
    with pytest.raises(ConformanceError) as failure:
        await case(harness)
    assert re.search(message, str(failure.value)), str(failure.value)
