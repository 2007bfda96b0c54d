"""Issue 10 (defects 6, 7, 14): validation at construction, failures that must not be
retried, protocol errors retried a few times, delay floor and Retry-After cap, and the
attempts of one reconnect episode. Pure: the machine on fakes, no I/O."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fsm import (
    DEFAULT_TABLE,
    Cause,
    ConfigError,
    ExponentialBackoff,
    FailureTable,
    FixedSchedule,
    FullJitterBackoff,
    LinkError,
    ProtocolViolation,
    RequestFailed,
    Settings,
    Verdict,
)
from fsm.errors import InvalidOption, InvalidURL
from fsm.events import ErrorRaised, Reconnected, Reconnecting

from .drive import finish_steps, make, to_connected_ready

MIN_DELAY = 0.05  # fsm.backoff.MIN_DELAY
MAX_RETRY_AFTER = 3600.0  # fsm.backoff.MAX_RETRY_AFTER


# --- defect 6: every option validated at construction, with a typed ConfigError -----------
@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ws://host:99999/ptt", id="port-out-of-range"),
        pytest.param("ws://host:0/ptt", id="port-zero"),
        pytest.param("ws://host:http/ptt", id="port-not-a-number"),
        pytest.param("ws://[x", id="bad-ipv6"),
        pytest.param("ws://user:pw@host/ptt", id="credentials"),
        pytest.param("ws://user@host/ptt", id="user"),
        pytest.param("ws://host/ptt#frag", id="fragment"),
        pytest.param("ws://host/ptt#", id="empty-fragment"),
        pytest.param("ws://host/ptt?token=abc", id="token-in-query"),
        pytest.param("ws://host/ptt?x=1&Access_Token=abc", id="access-token-in-query"),
        pytest.param("http://host/ptt", id="http"),
        pytest.param("ws:///ptt", id="no-host"),
        pytest.param("ws://host/p t", id="space"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_url_is_an_invalid_url_config_error(url: str) -> None:
    with pytest.raises(InvalidURL) as caught:
        Settings(url, "ops")
    assert isinstance(caught.value, ConfigError)
    assert caught.value.guidance
    assert "pw" not in str(caught.value)
    assert "abc" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["ws://host/ptt", "wss://host:443/ptt?room=1", "ws://[::1]:8765/ptt", "WSS://Host/"]
)
def test_good_urls_pass(url: str) -> None:
    assert Settings(url, "ops").url == url


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("stable_after", math.inf),
        ("connect_timeout", math.nan),
        ("step_timeout", 0),
        ("auth_timeout", True),
        ("outbox_capacity", 0),
        ("outbox_capacity", 2.5),
        ("flush_batch", True),
        ("flush_interval", math.inf),
        ("ptt_stale_after", -1),
        ("ptt_stale_after", math.nan),
        ("backoff", "fast"),
        ("failures", {}),
        ("channel", 7),
        ("token", None),
    ],
)
def test_bad_option_is_an_invalid_option(option: str, value: Any) -> None:
    args: dict[str, Any] = {"url": "ws://host/ptt", "channel": "ops", option: value}
    with pytest.raises(InvalidOption) as caught:
        Settings(**args)
    assert caught.value.option == option


@pytest.mark.parametrize(
    "make_policy",
    [
        lambda: ExponentialBackoff(jitter=math.inf),
        lambda: ExponentialBackoff(factor=math.nan),
        lambda: ExponentialBackoff(min_delay=0),
        lambda: FullJitterBackoff(max_retry_after=math.inf),
        lambda: FixedSchedule((0.1,), max_attempts=True),
        lambda: FixedSchedule((math.inf,)),
        lambda: FailureTable(max_protocol_retries=-1),
    ],
)
def test_bad_policy_numbers_are_config_errors(make_policy: Any) -> None:
    with pytest.raises(ConfigError):
        make_policy()


# --- defect 14: the failures a careful user expects to end in `error` ---------------------
@pytest.mark.parametrize(
    "error",
    [
        pytest.param(LinkError(status=400, cause=Cause.BAD_REQUEST), id="http-400"),
        pytest.param(LinkError(status=404, cause=Cause.NOT_FOUND), id="http-404"),
        pytest.param(LinkError(status=400), id="http-400-without-cause"),
        pytest.param(LinkError(cause=Cause.TLS), id="tls"),
        pytest.param(LinkError(cause=Cause.POLICY, code=1008), id="close-1008"),
        pytest.param(LinkError(cause=Cause.AUTH_INVALID, code=3000), id="close-3000"),
        pytest.param(LinkError(cause=Cause.FORBIDDEN, code=3003), id="close-3003"),
    ],
)
def test_not_retryable_failures_are_fatal_with_guidance(error: LinkError) -> None:
    assert DEFAULT_TABLE.verdict(error) is Verdict.FATAL
    assert DEFAULT_TABLE.guidance_for(error)


def test_protocol_failures_stay_retryable_for_the_table() -> None:
    """The verdict is still RETRY: the machine's counter decides when they are exhausted."""
    for error in (LinkError(cause=Cause.PROTOCOL, code=1002), ProtocolViolation("garbage")):
        assert DEFAULT_TABLE.verdict(error) is Verdict.RETRY
        assert DEFAULT_TABLE.is_protocol_failure(error)
        assert not DEFAULT_TABLE.protocol_exhausted(error, 2)
        assert DEFAULT_TABLE.protocol_exhausted(error, 3)
    assert not DEFAULT_TABLE.protocol_exhausted(LinkError(), 99)


def test_zero_delay_schedule_is_clamped_to_the_floor() -> None:
    """FixedSchedule((0,)) made a 90 % CPU loop against a flapping server."""
    for policy in (
        FixedSchedule((0,)),
        FullJitterBackoff(random=lambda: 0.0),
        ExponentialBackoff(base=1e-9, jitter=0.0),
    ):
        assert [policy.delay(n) for n in (1, 2, 3)] == [MIN_DELAY] * 3


def test_retry_after_is_capped_not_ignored() -> None:
    for policy in (
        FixedSchedule((0.1,)),
        ExponentialBackoff(random=lambda: 0.0),
        FullJitterBackoff(random=lambda: 0.0),
    ):
        assert policy.delay(1, retry_after=86_400) == MAX_RETRY_AFTER == 3600
        assert policy.delay(1, retry_after=math.inf) >= MIN_DELAY
    assert FixedSchedule((0.1,), max_retry_after=60).delay(1, retry_after=7200) == 60


# --- the machine --------------------------------------------------------------------------
def errors_of(rig: Any) -> list[ErrorRaised]:
    return [e for e in rig.recorder.events if isinstance(e, ErrorRaised)]


def test_protocol_close_is_retried_three_times_then_error() -> None:
    rig = make(media=False, tokens=False)
    to_connected_ready(rig)
    for _ in range(3):
        rig.fakes.signaling.lose(LinkError("closed 1002", cause=Cause.PROTOCOL, code=1002))
        assert rig.machine.detail == "backing_off"
        rig.fakes.clock.run_next()
        rig.fakes.signaling.complete_open()
        finish_steps(rig)
        assert rig.machine.state == "connected"
    rig.fakes.signaling.lose(LinkError("closed 1002", cause=Cause.PROTOCOL, code=1002))
    assert rig.machine.state == "error"
    assert isinstance(rig.machine.last_error, ProtocolViolation)
    [raised] = errors_of(rig)
    assert "4 times in a row" in raised.reason
    assert "protocol" in raised.guidance


def test_malformed_join_answers_end_in_error_not_forever() -> None:
    """A join answered with something that is not a session fails its step; after the
    table's retries the machine stops instead of looping."""
    rig = make(media=False, tokens=False)
    rig.send("connect")
    for _ in range(10):
        if rig.machine.state == "error":
            break
        if rig.machine.detail == "backing_off":
            rig.fakes.clock.run_next()
        rig.fakes.signaling.complete_open()
        rig.fakes.signaling.answer_join(error=ProtocolViolation("join answered int"))
    assert rig.machine.state == "error"
    assert rig.machine.metrics["attempts"] == 3  # the first try and three retries


def test_a_transient_failure_breaks_the_protocol_streak() -> None:
    rig = make(media=False, tokens=False)
    rig.send("connect")
    pattern = [Cause.PROTOCOL, Cause.PROTOCOL, Cause.TRANSIENT] * 3
    for cause in pattern:
        rig.fakes.signaling.fail_open(LinkError(cause=cause))
        assert rig.machine.detail == "backing_off", cause
        rig.fakes.clock.run_next()


def test_reconnected_counts_the_attempts_of_this_episode() -> None:
    """Two outages before the session is stable: the second Reconnected says 1, not 2+."""
    rig = make(media=False, tokens=False, stable_after=100.0)
    to_connected_ready(rig)
    for outage in range(3):
        rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
        if outage == 0:  # this episode needs two attempts
            rig.fakes.clock.run_next()
            rig.fakes.signaling.fail_open(LinkError(cause=Cause.TRANSIENT))
        rig.fakes.clock.run_next()
        rig.fakes.signaling.complete_open()
        finish_steps(rig)
        assert rig.machine.state == "connected"
    done = [e.attempts for e in rig.recorder.events if isinstance(e, Reconnected)]
    assert done == [2, 1, 1]
    # the backoff still counts on until the session is stable (max_attempts semantics)
    assert [e.attempt for e in rig.recorder.events if isinstance(e, Reconnecting)] == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (LinkError(cause=Cause.FORBIDDEN, code=4003), "does not grant access"),
        (RequestFailed("join", Cause.FORBIDDEN), "does not grant access"),
        (LinkError(status=404, cause=Cause.NOT_FOUND), "URL"),
        (LinkError(cause=Cause.TLS), "certificate"),
        (LinkError(cause=Cause.POLICY, code=1008), "policy"),
    ],
)
def test_error_guidance_matches_the_cause(error: Any, expected: str) -> None:
    rig = make(media=False, tokens=True)
    to_connected_ready(rig)
    if isinstance(error, LinkError):
        rig.fakes.signaling.lose(error)
    else:
        rig.fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
        rig.fakes.clock.run_next()
        rig.fakes.signaling.complete_open()
        rig.fakes.signaling.answer_join(error=error)
    assert rig.machine.state == "error"
    [raised] = errors_of(rig)
    assert expected in raised.guidance
    assert "log in again" not in raised.guidance
