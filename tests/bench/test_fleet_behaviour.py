"""Herd safety from both ends: load shedding, restart hints, and the fleet policy."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from adapters import ConnectionManager
from adapters.backends.reference.causes import restart_hint, restart_reason
from adapters.server import PttServer, mint_token
from adapters.server.gate import HandshakeLimit
from fsm import ConnectionMachine, LinkError, Settings
from fsm.backoff import ExponentialBackoff, FleetBackoff, schedule
from fsm.errors import Cause, ConfigError
from fsm.events import Reconnecting
from fsm.observe import Recorder
from fsm.testing import Fakes, joined_ok

SECRET = "bench-secret-0123456789abcdef0123456789"


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user, 'ops', 600)}"}


def test_fleet_policy_spreads_over_a_short_cap() -> None:
    """FleetBackoff draws from [floor, min(cap, base * 2**(n-1))]; Retry-After is a floor."""
    low = FleetBackoff(random=lambda: 0.0)
    high = FleetBackoff(random=lambda: 0.999999)
    assert list(schedule(low, 8)) == [0.1] * 8
    assert [round(d, 2) for d in schedule(high, 6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert low.delay(3, retry_after=1.7) == 1.7
    with pytest.raises(ConfigError):
        FleetBackoff(floor=6.0)


def test_restart_reason_round_trips() -> None:
    assert restart_hint(restart_reason(1.74)) == 1.7
    assert restart_hint("retry-after=abc") is None
    assert restart_hint("going away") is None
    assert restart_hint("retry-after=99999") is None


def test_a_retry_after_does_not_escalate_the_attempt() -> None:
    """503 + Retry-After (or a restart hint) schedules the retry: the attempt stays put."""
    fakes = Fakes.create()
    recorder = Recorder()
    machine = ConnectionMachine(
        Settings("ws://t/ptt", "ops", token="t", backoff=ExponentialBackoff(random=lambda: 0.0)),
        fakes.ports(media=False),
        listeners=[recorder],
    )
    machine.send("connect")
    fakes.signaling.complete_open()
    fakes.signaling.answer_join(joined_ok(resume_id="s"))
    fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT, code=1006))
    for _ in range(3):
        fakes.clock.run_next()  # retry due -> redialing
        fakes.signaling.fail_open(LinkError(status=503, retry_after=0.7))
    assert machine.state == "reconnecting"
    seen = [e for e in recorder.events if isinstance(e, Reconnecting)]
    assert [(e.attempt, e.delay) for e in seen] == [(1, 1.0), (1, 1.0), (1, 1.0), (1, 1.0)]
    fakes.clock.run_next()
    fakes.signaling.fail_open(LinkError(cause=Cause.TRANSIENT, code=1006))  # a real failure
    last = [e for e in recorder.events if isinstance(e, Reconnecting)][-1]
    assert (last.attempt, last.delay) == (2, 2.0)


async def test_gate_sheds_with_a_spread_retry_after_then_admits_again() -> None:
    """While the in-flight limit is reached, handshakes get 503 with growing Retry-After."""
    limit = HandshakeLimit(max_in_flight=1, rate=10.0, jitter=0.0)
    async with PttServer(SECRET, handshake_limit=limit) as server:
        async with connect(server.url, additional_headers=_auth("a")) as first:
            assert server.handshakes_in_flight == 1  # accepted, no join yet
            hints = []
            for user in ("b", "c"):
                with pytest.raises(InvalidStatus) as rejected:
                    async with connect(server.url, additional_headers=_auth(user)):
                        pass
                assert rejected.value.response.status_code == 503
                hints.append(float(rejected.value.response.headers["Retry-After"]))
            assert hints[0] >= 0.5
            assert hints[1] > hints[0]
            await first.send('{"id": 1, "method": "join", "data": {"channel": "ops"}}')
            await first.recv()
            assert server.handshakes_in_flight == 0
            async with connect(server.url, additional_headers=_auth("d")):
                pass
        assert server.stats.handshakes["503"] == 2


async def test_a_graceful_restart_tells_the_client_when_to_come_back() -> None:
    """close(restart_in=) sends 1012 with a hint; the client waits exactly that long."""
    server = PttServer(SECRET)
    await server.start()
    manager = ConnectionManager(
        server.url, channel="ops", token=mint_token(SECRET, "a", "ops", 600), media=False,
        log_transitions=False,
    )  # fmt: skip
    try:
        await manager.connect(wait=True, timeout=10)
        async with manager.events() as events:
            await server.close(restart_in=2.5, spread=0.0)
            seen: Reconnecting | None = None
            async with asyncio.timeout(5):
                async for event in events:
                    if isinstance(event, Reconnecting):
                        seen = event
                        break
        assert seen is not None
        assert (seen.attempt, seen.delay) == (1, 2.5)
        assert getattr(manager.machine.last_error, "retry_after", None) == 2.5
    finally:
        await manager.disconnect()
        await server.close()
