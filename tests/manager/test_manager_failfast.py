"""The public API fails fast with typed errors, validates at once and misses no event."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from adapters import ConnectionManager
from adapters.testing.fakes import FakeBackend
from fsm import Cause, ConfigError, LinkError, StateChanged, UsageError
from fsm.testing import Driver, Fakes


def _manager(fakes: Fakes, **options: object) -> ConnectionManager:
    return ConnectionManager(
        "ws://ptt.test/ptt",
        channel="ops",
        token="t0",
        media=False,
        backend=FakeBackend(fakes),
        clock=fakes.clock,
        log_transitions=False,
        **options,  # type: ignore[arg-type]
    )


async def test_wait_for_raises_the_typed_error_at_once() -> None:
    """A rejected token ends waiting with the server's typed error, not a 10 s timeout."""
    fakes = Fakes.create()
    manager = _manager(fakes)
    await manager.connect()
    loop = asyncio.get_running_loop()
    forbidden = LinkError(status=403, cause=Cause.FORBIDDEN)
    loop.call_later(0.01, fakes.signaling.fail_open, forbidden)
    started = loop.time()
    with pytest.raises(LinkError) as caught:
        await manager.wait_for("connected", timeout=10)
    assert caught.value is forbidden
    assert loop.time() - started < 1.0


async def test_connect_wait_raises_for_a_final_goodbye() -> None:
    """``connect(wait=True)`` raises when the server's final goodbye ends the attempt."""
    fakes = Fakes.create()
    manager = _manager(fakes)
    kicked = LinkError(cause=Cause.KICKED)
    asyncio.get_running_loop().call_later(0.01, fakes.signaling.fail_open, kicked)
    with pytest.raises(LinkError) as caught:
        await manager.connect(wait=True, timeout=5)
    assert caught.value is kicked
    assert manager.state == "disconnected"


async def test_wait_for_after_disconnect_is_a_usage_error() -> None:
    fakes = Fakes.create()
    manager = _manager(fakes)
    await manager.connect()
    await manager.disconnect()
    with pytest.raises(UsageError):
        await manager.wait_for("connected", timeout=5)


async def test_wait_for_returns_when_connected() -> None:
    fakes = Fakes.create()
    manager = _manager(fakes)
    await manager.connect()
    asyncio.get_running_loop().call_later(0.01, Driver(manager.machine, fakes).finish_open)
    await manager.wait_for("connected", timeout=5)


async def test_unknown_state_names_are_rejected() -> None:
    """A typo in a state name is an error at once, not a silent wait until the timeout."""
    manager = _manager(Fakes.create())
    with pytest.raises(ConfigError):
        await manager.wait_for("conected", timeout=5)  # type: ignore[arg-type]


async def test_the_readme_pattern_sees_idle_to_connecting() -> None:
    """``async with ... as conn: async for e in conn.events()`` starts at idle -> connecting."""
    fakes = Fakes.create()
    async with _manager(fakes) as conn:
        stream = conn.events()
        fakes.signaling.complete_open()
        async with asyncio.timeout(2):
            first = await anext(stream)
            second = await anext(stream)
    assert isinstance(first, StateChanged)
    assert (first.previous, first.state) == ("idle", "connecting")
    assert isinstance(second, StateChanged)
    assert second.detail == "establishing"


def test_an_invalid_mode_is_rejected_at_construction() -> None:
    with pytest.raises(ConfigError):
        _manager(Fakes.create(), mode="push")


def test_a_non_listener_is_rejected() -> None:
    with pytest.raises(UsageError):
        _manager(Fakes.create()).add_listener(42)


def test_metrics_and_channel_work_outside_a_running_loop() -> None:
    """Reading counters needs no event loop and builds nothing."""
    manager = _manager(Fakes.create())
    assert manager.metrics.attempts == 0
    assert manager.channel.members == set()


async def test_concurrent_connects_run_the_token_provider_once() -> None:
    calls = 0

    async def provider() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return "t1"

    fakes = Fakes.create()
    manager = ConnectionManager(
        "ws://ptt.test/ptt",
        channel="ops",
        token_provider=provider,
        media=False,
        backend=FakeBackend(fakes),
        clock=fakes.clock,
        log_transitions=False,
    )
    await asyncio.gather(manager.connect(), manager.connect())
    assert calls == 1
    assert len(fakes.signaling.opens) == 1


SILENT = textwrap.dedent(
    """
    import asyncio, logging, sys
    from adapters import ConnectionManager
    from adapters.testing.fakes import FakeBackend
    from fsm.testing import Driver, Fakes

    if sys.argv[1] == "logging":
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)

    async def main():
        fakes = Fakes.create()
        conn = ConnectionManager("ws://t/ptt", channel="ops", token="t", media=False,
                                 backend=FakeBackend(fakes), clock=fakes.clock)
        await conn.connect()
        Driver(conn.machine, fakes).finish_open()
        conn.send_message({"n": 1})
        await conn.disconnect()

    asyncio.run(main())
    """
)


@pytest.mark.parametrize(("config", "silent"), [("none", True), ("logging", False)])
def test_the_library_is_silent_unless_logging_is_configured(config: str, silent: bool) -> None:
    """No output at all by default; the usual events once the app configures logging."""
    done = subprocess.run(
        [sys.executable, "-c", SILENT, config],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    if silent:
        assert done.stderr == ""
    else:
        assert "ptt.transition" in done.stderr
