"""Backoff, failure classification and outbox: the pure policies behind the guards."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsm import (
    DEFAULT_TABLE,
    AuthError,
    ConfigError,
    ConnectRefused,
    DeviceError,
    ExponentialBackoff,
    FixedSchedule,
    FullJitterBackoff,
    KeepaliveTimeout,
    LinkError,
    OperationTimeout,
    Outbox,
    Outgoing,
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
    """Full jitter: U(0, min(cap, base * 2**(attempt-1)))."""
    policy = FullJitterBackoff(random=lambda: r)
    ceiling = min(30.0, 2.0 ** (attempt - 1))
    assert policy.delay(attempt) == pytest.approx(ceiling * r)


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
        (LinkError(status=401), Verdict.FATAL),
        (LinkError(status=403), Verdict.FATAL),
        (LinkError(status=429, retry_after=2), Verdict.RETRY_AFTER),
        (LinkError(status=503, retry_after=2), Verdict.RETRY_AFTER),
        (LinkError(status=500), Verdict.RETRY),
        (LinkError(status=502), Verdict.RETRY),
        (LinkError(close_code=1000), Verdict.RETRY),
        (LinkError(close_code=1001), Verdict.RETRY),
        (LinkError(close_code=1006), Verdict.RETRY),
        (LinkError(close_code=1011), Verdict.RETRY),
        (LinkError(close_code=1012), Verdict.RETRY),
        (LinkError(close_code=1013), Verdict.RETRY),
        (LinkError(close_code=4000), Verdict.FINAL),
        (LinkError(close_code=4004), Verdict.FINAL),
        (LinkError(close_code=4001), Verdict.FATAL),
        (LinkError(close_code=4003), Verdict.FATAL),
        (LinkError(close_code=4999), Verdict.RETRY),
        (ConnectRefused(), Verdict.RETRY),
        (KeepaliveTimeout(), Verdict.RETRY),
        (OperationTimeout("slow"), Verdict.RETRY),
        (RequestFailed("join", "forbidden"), Verdict.FATAL),
        (RequestFailed("join", "kicked"), Verdict.FINAL),
        (RequestFailed("join", "internal"), Verdict.RETRY),
        (AuthError("x"), Verdict.FATAL),
        (DeviceError("no mic"), Verdict.FATAL),
        (RuntimeError("bug"), Verdict.FATAL),
        (None, Verdict.RETRY),
    ],
)
def test_failure_table(error: BaseException | None, verdict: Verdict) -> None:
    assert DEFAULT_TABLE.verdict(error) is verdict


def test_failure_table_overrides_and_rows() -> None:
    """Users can read the table and override a row without touching the default."""
    custom = DEFAULT_TABLE.with_overrides(close_codes={4100: Verdict.FINAL, 1001: Verdict.FINAL})
    assert custom.verdict(LinkError(close_code=4100)) is Verdict.FINAL
    assert custom.verdict(LinkError(close_code=1001)) is Verdict.FINAL
    assert DEFAULT_TABLE.verdict(LinkError(close_code=1001)) is Verdict.RETRY
    assert ("close code", "4000", Verdict.FINAL) in DEFAULT_TABLE.rows()


def test_auth_failures() -> None:
    assert DEFAULT_TABLE.is_auth_failure(LinkError(status=401))
    assert DEFAULT_TABLE.is_auth_failure(LinkError(close_code=4001))
    assert not DEFAULT_TABLE.is_auth_failure(LinkError(status=403))


# --- outbox ------------------------------------------------------------------------------
def _msg(n: int, at: float = 0.0) -> Outgoing:
    return Outgoing("message", {"n": n}, at)


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
    box.put(Outgoing("pttStart", {"tx_id": "a"}, 0.0))  # stale at t=3
    box.put(_msg(1, 0.5))  # messages never go stale
    box.put(Outgoing("pttStop", {"tx_id": "a"}, 2.5))  # fresh, but its start was dropped
    box.put(Outgoing("pttStart", {"tx_id": "b"}, 2.6))
    box.put(Outgoing("pttStop", {"tx_id": "b"}, 2.7))
    sent = box.drain(now=3.0)
    assert [(m.method, m.data.get("tx_id")) for m in sent] == [
        ("message", None),
        ("pttStart", "b"),
        ("pttStop", "b"),
    ]
    assert box.dropped["stale"] == 1
    assert box.dropped["orphan_stop"] == 1


@given(st.lists(st.tuples(st.sampled_from(["message", "pttStart", "pttStop"]), st.floats(0, 10))))
def test_outbox_never_exceeds_capacity_and_keeps_order(items: list[tuple[str, float]]) -> None:
    box = Outbox(capacity=5)
    for i, (method, at) in enumerate(items):
        box.put(Outgoing(method, {"i": i, "tx_id": "t"}, at))
        assert len(box) <= 5
    order = [m.data["i"] for m in box.drain(now=10.0)]
    assert order == sorted(order)


def test_outbox_releases_in_batches_and_a_stop_may_follow_its_start_later() -> None:
    box = Outbox()
    box.put(Outgoing("pttStart", {"tx_id": "a"}, 0.0))
    box.put(_msg(1))
    box.put(Outgoing("pttStop", {"tx_id": "a"}, 0.0))
    assert [m.method for m in box.drain(now=0.5, limit=2)] == ["pttStart", "message"]
    assert [m.method for m in box.drain(now=0.5, limit=2)] == ["pttStop"]
    assert box.dropped["orphan_stop"] == 0
