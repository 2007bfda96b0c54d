"""Short fuzz runs (about 20 s in all): Hypothesis against the client's decoders, the
server's envelope parser, and real sockets on both sides. The full run is ``ptt fuzz``."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from adapters.testing.fuzz import checks, run_fuzz, strategies

QUICK = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@QUICK
@given(strategies.join_answer | strategies.anything)
def test_join_answers_decode_to_valid_facts_or_a_violation(data: Any) -> None:
    """A join answer is a valid ``Joined`` or a ``ProtocolViolation``, nothing else."""
    assert checks.join_answer(data) in ("joined", "violation")


@QUICK
@given(strategies.floor_answer | strategies.anything)
def test_floor_answers_decode_to_valid_facts_or_a_violation(data: Any) -> None:
    """A floor answer is for our transmission, with a boolean grant, or a violation."""
    assert checks.floor_answer(data) in ("granted", "denied", "violation")


@QUICK
@given(strategies.notifications)
def test_every_notification_decodes_to_a_valid_fact_or_a_drop(case: tuple[str, Any]) -> None:
    """Every notification kind with hostile data: a valid fact, unknown, or a violation."""
    checks.notification(*case)


@QUICK
@given(strategies.client_frames)
def test_the_server_parser_refuses_with_typed_errors_only(frame: str | bytes) -> None:
    """Any frame is a request of a known method or a ``RequestError`` with a protocol code."""
    checks.server_parse(frame)


async def test_a_short_run_through_real_sockets_finds_nothing() -> None:
    """2,000 inputs, a third of them over real WebSockets: no finding, every leg reached."""
    report = await run_fuzz(2000, seed=7)
    print("\n" + "\n".join(report.lines()))
    assert report.findings.crashes == []
    legs = {outcome.split(" ")[0].split(":")[0] for outcome in report.findings.outcomes}
    assert {"join_answer", "floor_answer", "notification", "server_parse"} <= legs
    assert {"link", "server"} <= legs
    assert report.findings.outcomes["server ok"] > 0
    assert report.findings.outcomes["join_answer joined"] > 0
