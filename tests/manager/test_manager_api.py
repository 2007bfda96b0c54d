"""ConnectionManager's public API, driven through the shipped fakes (no network)."""

from __future__ import annotations

import asyncio

import pytest

from adapters import ConnectionManager
from adapters.testing.fakes import FakeBackend
from fsm import (
    Cause,
    ConfigError,
    FixedSchedule,
    IllegalTransition,
    LinkError,
    Reconnected,
    Reconnecting,
    StateChanged,
)
from fsm.testing import Fakes, joined_ok


def _manager(fakes: Fakes, **options: object) -> ConnectionManager:
    return ConnectionManager(
        "ws://ptt.test/ptt",
        channel="ops",
        token="t0",
        media=False,
        backend=FakeBackend(fakes),
        clock=fakes.clock,
        backoff=FixedSchedule((1.0, 2.0)),
        log_transitions=False,
        **options,  # type: ignore[arg-type]
    )


async def _connected(fakes: Fakes, manager: ConnectionManager) -> None:
    await manager.connect()
    fakes.signaling.complete_open()
    fakes.signaling.answer_join(joined_ok(resume_id="s1", others=()))
    assert manager.state == "connected"


def test_needs_a_token_or_provider() -> None:
    with pytest.raises(ConfigError):
        ConnectionManager("ws://ptt.test/ptt", channel="ops")


def test_secrets_never_in_the_url() -> None:
    with pytest.raises(ConfigError):
        ConnectionManager("ws://ptt.test/ptt?token=abc", channel="ops", token="abc")


async def test_user_calls_raise_when_illegal_and_state_is_unchanged() -> None:
    """Talking or sending while disconnected is a clear typed error, not a silent drop."""
    manager = _manager(Fakes.create())
    with pytest.raises(IllegalTransition):
        manager.ptt.press()
    with pytest.raises(IllegalTransition):
        manager.send_message({"text": "hi"})
    assert manager.state == "idle"


async def test_events_iterator_and_reconnect_metrics() -> None:
    """Typed events arrive in order; metrics count the episode and the recovery time."""
    fakes = Fakes.create()
    manager = _manager(fakes)
    seen: list[object] = []

    async def collect() -> None:
        async for event in manager.events():
            seen.append(event)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0)
    await _connected(fakes, manager)
    fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
    fakes.clock.advance(1.0)
    fakes.signaling.complete_open()
    fakes.signaling.answer_join(joined_ok(resume_id="s1", resumed=True, others=()))
    await asyncio.sleep(0)
    task.cancel()
    states = [e.state for e in seen if isinstance(e, StateChanged)]
    assert states == ["connecting", "connecting", "connected", "reconnecting", "reconnecting",
                      "reconnecting", "connected"]  # fmt: skip
    assert [e.attempt for e in seen if isinstance(e, Reconnecting)] == [1]
    assert [e.downtime for e in seen if isinstance(e, Reconnected)] == [1.0]
    metrics = manager.metrics
    assert (metrics.episodes, metrics.recoveries, metrics.last_recovery_seconds) == (1, 1, 1.0)


async def test_hint_reconnect_now_skips_the_backoff() -> None:
    fakes = Fakes.create()
    manager = _manager(fakes)
    await _connected(fakes, manager)
    fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT))
    opens = len(fakes.signaling.opens)
    manager.hint_reconnect_now()
    assert manager.detail == "redialing"
    assert len(fakes.signaling.opens) == opens + 1
    assert fakes.clock.pending()[0].when > fakes.clock.now()  # only the connect watchdog


async def test_ptt_modes() -> None:
    """Hold: press/release; toggle: each press flips; a release in toggle mode does nothing."""
    fakes = Fakes.create()
    manager = _manager(fakes)
    await _connected(fakes, manager)
    manager.ptt.press()
    fakes.signaling.answer_floor(granted=True)
    assert manager.transmitting
    manager.ptt.release()
    assert not manager.transmitting
    assert not manager.ptt.held
    manager.ptt.set_mode("toggle")
    manager.ptt.press()
    manager.ptt.release()
    assert manager.ptt.held
    manager.ptt.press()
    assert not manager.ptt.held
    with pytest.raises(ConfigError):
        manager.ptt.set_mode("push")  # type: ignore[arg-type]


async def test_disconnect_is_safe_in_any_state_and_twice() -> None:
    fakes = Fakes.create()
    manager = _manager(fakes)
    await manager.disconnect()  # never connected
    await _connected(fakes, manager)
    await manager.disconnect()
    await manager.disconnect()
    assert manager.state == "disconnected"
    assert fakes.signaling.sent()[-2:] == ["leave", "close"]
    assert fakes.clock.pending() == []


async def test_token_provider_alone_gives_the_first_token() -> None:
    fakes = Fakes.create()

    async def provider() -> str:
        return "from-provider"

    manager = ConnectionManager(
        "ws://ptt.test/ptt", channel="ops", token_provider=provider, media=False,
        backend=FakeBackend(fakes), clock=fakes.clock, log_transitions=False,
    )  # fmt: skip
    await manager.connect()
    assert fakes.signaling.opens[-1] == ("ws://ptt.test/ptt", "from-provider")


async def test_a_buggy_user_listener_never_breaks_the_connection() -> None:
    """The exception is logged; the machine keeps going and other listeners still run."""
    import structlog

    from fsm.observe import Listener

    class Broken(Listener):
        def on_event(self, event: object) -> None:
            raise RuntimeError("display bug")

    class Counting:
        calls = 0

        def after_transition(self, event: str) -> None:
            Counting.calls += 1

    fakes = Fakes.create()
    manager = _manager(fakes)
    manager.add_listener(Broken())
    manager.add_listener(Counting())
    with structlog.testing.capture_logs() as logs:
        await _connected(fakes, manager)
    assert manager.state == "connected"
    assert Counting.calls >= 3
    assert any(e["event"] == "ptt.listener_failed" for e in logs)
