"""Backoff, failure classification and outbox: the pure policies behind the guards."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsm import (
    DEFAULT_TABLE,
    AuthError,
    Cause,
    ConfigError,
    ConnectRefused,
    DeviceError,
    ExponentialBackoff,
    FailureTable,
    FixedSchedule,
    FullJitterBackoff,
    Intent,
    KeepaliveTimeout,
    LinkError,
    OperationTimeout,
    Outbox,
    Outgoing,
    ProtocolViolation,
    RequestFailed,
    Verdict,
)
from fsm.backoff import schedule


def test_default_schedule_is_the_product_schedule() -> None:
    """1, 2, 4, 8, 16, 30, 30 ... s with zero jitter drawn."""
    policy = ExponentialBackoff(random=lambda: 0.0)
    assert list(schedule(policy, 9)) == [1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert policy.max_attempts is None


def test_jitter_is_added_after_the_cap() -> None:
    """Capped retries spread over 30.0-30.5 s instead of all firing at exactly 30 s."""
    draws = itertools.cycle([0.0, 0.5, 0.999])
    policy = ExponentialBackoff(random=lambda: next(draws))
    delays = [policy.delay(20) for _ in range(3)]
    assert delays == [30.0, 30.25, pytest.approx(30.4995)]


@given(attempt=st.integers(min_value=1, max_value=10_000), r=st.floats(0.0, 0.9999))
def test_exponential_delay_bounds(attempt: int, r: float) -> None:
    """Every delay is the nominal delay plus at most 0.5 s, never above 30.5 s."""
    policy = ExponentialBackoff(random=lambda: r)
    delay = policy.delay(attempt)
    assert policy.nominal(attempt) <= delay < policy.nominal(attempt) + 0.5
    assert delay < 30.5


@given(attempt=st.integers(min_value=1, max_value=200), r=st.floats(0.0, 0.9999))
def test_full_jitter_is_uniform_below_the_capped_exponential(attempt: int, r: float) -> None:
    """Full jitter: U(0, min(cap, base * 2**(attempt-1))), floored at MIN_DELAY (50 ms)."""
    policy = FullJitterBackoff(random=lambda: r)
    ceiling = min(30.0, 2.0 ** (attempt - 1))
    assert policy.delay(attempt) == pytest.approx(max(0.05, ceiling * r))


def test_retry_after_is_a_floor() -> None:
    """A server's Retry-After is honoured even when the backoff would retry sooner."""
    for policy in (
        ExponentialBackoff(random=lambda: 0.0),
        FullJitterBackoff(random=lambda: 0.0),
        FixedSchedule((0.1,)),
    ):
        assert policy.delay(1, retry_after=7.5) == 7.5
        assert policy.delay(10, retry_after=0.01) >= 0.01


def test_fixed_schedule_repeats_its_last_delay() -> None:
    assert list(schedule(FixedSchedule((0.1, 0.2)), 4)) == [0.1, 0.2, 0.2, 0.2]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExponentialBackoff(base=0),
        lambda: ExponentialBackoff(cap=-1),
        lambda: ExponentialBackoff(max_attempts=0),
        lambda: FullJitterBackoff(base=float("inf")),
        lambda: FixedSchedule(()),
        lambda: FixedSchedule((float("nan"),)),
    ],
)
def test_bad_backoff_config_is_a_config_error(make: object) -> None:
    with pytest.raises(ConfigError):
        make()  # type: ignore[operator]


# --- classification ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        # a rejected handshake: its HTTP status decides
        (LinkError(status=401, cause=Cause.AUTH_INVALID), Verdict.FATAL),
        (LinkError(status=403, cause=Cause.FORBIDDEN), Verdict.FATAL),
        (LinkError(status=429, retry_after=2), Verdict.RETRY_AFTER),
        (LinkError(status=503, retry_after=2), Verdict.RETRY_AFTER),
        (LinkError(status=500), Verdict.RETRY),
        (LinkError(status=502), Verdict.RETRY),
        (LinkError(status=418, retry_after=5), Verdict.RETRY_AFTER),  # any status + Retry-After
        # a status is looked up before the cause
        (LinkError(status=500, cause=Cause.KICKED), Verdict.RETRY),
        # a link closed or lost: its cause decides
        (LinkError(), Verdict.RETRY),
        (LinkError(cause=Cause.TRANSIENT), Verdict.RETRY),
        (LinkError(cause=Cause.SERVER_GOING_AWAY), Verdict.RETRY),
        (LinkError(cause=Cause.PROTOCOL), Verdict.RETRY),
        (LinkError(cause=Cause.RATE_LIMITED, retry_after=2), Verdict.RETRY_AFTER),
        (LinkError(cause=Cause.KICKED), Verdict.FINAL),
        (LinkError(cause=Cause.CHANNEL_GONE), Verdict.FINAL),
        (LinkError(cause=Cause.AUTH_EXPIRED), Verdict.FATAL),
        (LinkError(cause=Cause.AUTH_INVALID), Verdict.FATAL),
        (LinkError(cause=Cause.FORBIDDEN), Verdict.FATAL),
        (ConnectRefused(), Verdict.RETRY),
        (KeepaliveTimeout(), Verdict.RETRY),
        (OperationTimeout("slow"), Verdict.RETRY),
        # a refused operation: its cause decides too
        (RequestFailed("join", Cause.FORBIDDEN), Verdict.FATAL),
        (RequestFailed("join", Cause.KICKED), Verdict.FINAL),
        (RequestFailed("join", Cause.CHANNEL_GONE), Verdict.FINAL),
        (RequestFailed("join", Cause.TRANSIENT), Verdict.RETRY),
        (RequestFailed("join"), Verdict.RETRY),
        (RequestFailed("send_message", Cause.RATE_LIMITED), Verdict.RETRY_AFTER),
        (ProtocolViolation("garbage"), Verdict.RETRY),
        (AuthError("x"), Verdict.FATAL),
        (DeviceError("no mic"), Verdict.FATAL),
        (RuntimeError("bug"), Verdict.FATAL),
        (None, Verdict.RETRY),
    ],
)
def test_failure_table(error: BaseException | None, verdict: Verdict) -> None:
    assert DEFAULT_TABLE.verdict(error) is verdict


@pytest.mark.parametrize("cause", list(Cause))
def test_the_backend_code_is_never_read(cause: Cause) -> None:
    """The table decides on the cause; a backend's own code is for diagnostics only."""
    table = DEFAULT_TABLE
    assert table.verdict(LinkError(cause=cause, code="backend-42")) is table.verdict(
        LinkError(cause=cause)
    )
    assert table.verdict(RequestFailed("join", cause, code=17)) is table.verdict(
        RequestFailed("join", cause)
    )


def test_a_cause_missing_from_the_table_is_retried() -> None:
    """Anything the table does not list gets the default verdict: retry."""
    table = FailureTable(causes={}, statuses={})
    assert table.verdict(LinkError(cause=Cause.KICKED)) is Verdict.RETRY
    assert table.verdict(RequestFailed("join", Cause.FORBIDDEN)) is Verdict.RETRY
    assert table.verdict(LinkError(status=403)) is Verdict.RETRY


def test_failure_table_overrides_and_rows() -> None:
    """Users can read the table and override a row without touching the default."""
    custom = DEFAULT_TABLE.with_overrides(
        causes={Cause.SERVER_GOING_AWAY: Verdict.FINAL},
        statuses={418: Verdict.FINAL, 503: Verdict.RETRY},
    )
    assert custom.verdict(LinkError(cause=Cause.SERVER_GOING_AWAY)) is Verdict.FINAL
    assert custom.verdict(RequestFailed("join", Cause.SERVER_GOING_AWAY)) is Verdict.FINAL
    assert custom.verdict(LinkError(status=418)) is Verdict.FINAL
    assert custom.verdict(LinkError(status=503, retry_after=2)) is Verdict.RETRY
    assert custom.verdict(LinkError(cause=Cause.KICKED)) is Verdict.FINAL  # rows kept
    assert DEFAULT_TABLE.verdict(LinkError(cause=Cause.SERVER_GOING_AWAY)) is Verdict.RETRY
    assert DEFAULT_TABLE.verdict(LinkError(status=418)) is Verdict.RETRY
    assert DEFAULT_TABLE.verdict(LinkError(status=503, retry_after=2)) is Verdict.RETRY_AFTER
    rows = DEFAULT_TABLE.rows()
    assert ("cause", "kicked", Verdict.FINAL) in rows
    assert ("http status", "401", Verdict.FATAL) in rows
    assert ("cause", "server_going_away", Verdict.FINAL) in custom.rows()


def test_auth_failures() -> None:
    """Only an auth failure is worth a token refresh."""
    table = DEFAULT_TABLE
    assert table.is_auth_failure(LinkError(status=401))
    assert table.is_auth_failure(LinkError(cause=Cause.AUTH_EXPIRED))
    assert table.is_auth_failure(LinkError(cause=Cause.AUTH_INVALID))
    assert table.is_auth_failure(RequestFailed("join", Cause.AUTH_EXPIRED))
    assert table.is_auth_failure(AuthError("rejected"))
    assert not table.is_auth_failure(LinkError(status=403, cause=Cause.FORBIDDEN))
    assert not table.is_auth_failure(LinkError(cause=Cause.FORBIDDEN))
    assert not table.is_auth_failure(RequestFailed("join", Cause.KICKED))
    assert not table.is_auth_failure(OperationTimeout("slow"))


# --- outbox ------------------------------------------------------------------------------
def _msg(n: int, at: float = 0.0) -> Outgoing:
    return Outgoing(Intent.MESSAGE, at, msg_id=f"m-{n}", data={"n": n})


def _talk(tx_id: str, at: float) -> Outgoing:
    return Outgoing(Intent.TALK, at, tx_id=tx_id)


def _stop(tx_id: str, at: float) -> Outgoing:
    return Outgoing(Intent.STOP_TALKING, at, tx_id=tx_id)


def test_outbox_drops_the_oldest_when_full() -> None:
    """150 messages into a 100-slot outbox: the newest 100 stay, in order; 50 counted."""
    box = Outbox(capacity=100)
    for n in range(150):
        box.put(_msg(n))
    assert [m.data["n"] for m in box.drain(now=0.0)] == list(range(50, 150))
    assert box.dropped["overflow"] == 50
    assert len(box) == 0


def test_stale_ptt_entries_are_dropped_and_stop_is_never_sent_alone() -> None:
    box = Outbox(ptt_stale_after=2.0)
    box.put(_talk("a", 0.0))  # stale at t=3
    box.put(_msg(1, 0.5))  # messages never go stale
    box.put(_stop("a", 2.5))  # fresh, but its start was dropped
    box.put(_talk("b", 2.6))
    box.put(_stop("b", 2.7))
    sent = box.drain(now=3.0)
    assert [(m.intent, m.tx_id) for m in sent] == [
        (Intent.MESSAGE, None),
        (Intent.TALK, "b"),
        (Intent.STOP_TALKING, "b"),
    ]
    assert box.dropped["stale"] == 1
    assert box.dropped["orphan_stop"] == 1


@given(st.lists(st.tuples(st.sampled_from(list(Intent)), st.floats(0, 10))))
def test_outbox_never_exceeds_capacity_and_keeps_order(items: list[tuple[Intent, float]]) -> None:
    box = Outbox(capacity=5)
    position: dict[int, int] = {}
    for i, (intent, at) in enumerate(items):
        item = (
            Outgoing(intent, at, msg_id=f"m-{i}")
            if intent is Intent.MESSAGE
            else Outgoing(intent, at, tx_id="t")
        )
        position[id(item)] = i
        box.put(item)
        assert len(box) <= 5
    order = [position[id(m)] for m in box.drain(now=10.0)]
    assert order == sorted(order)


def test_outbox_releases_in_batches_and_a_stop_may_follow_its_start_later() -> None:
    box = Outbox()
    box.put(_talk("a", 0.0))
    box.put(_msg(1))
    box.put(_stop("a", 0.0))
    assert [m.intent for m in box.drain(now=0.5, limit=2)] == [Intent.TALK, Intent.MESSAGE]
    assert [m.intent for m in box.drain(now=0.5, limit=2)] == [Intent.STOP_TALKING]
    assert box.dropped["orphan_stop"] == 0
