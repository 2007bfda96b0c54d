"""Benchmarks: they print figures (run with -s) and assert only that the work was done.

Speed and memory are measured, not asserted against thresholds: a noisy 2-core CI machine
would make timed assertions flaky. Compare the printed figures between runs instead.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import tracemalloc

from adapters import ConnectionManager
from adapters.server import PttServer, mint_token
from adapters.testing.faultproxy import FaultProxy
from fsm import ConnectionMachine, FixedSchedule, LinkError, Settings
from fsm.errors import Cause
from fsm.testing import Fakes, joined_ok

SECRET = "bench-secret-0123456789abcdef0123456789"


def test_bench_transition_rate() -> None:
    """Transitions per second through a full outage cycle on the fakes."""
    fakes = Fakes.create()
    machine = ConnectionMachine(
        Settings("ws://bench/ptt", "ops", token="t", backoff=FixedSchedule((1.0,))),
        fakes.ports(media=False),
    )
    machine.send("connect")
    fakes.signaling.complete_open()
    fakes.signaling.answer_join(joined_ok(resume_id="s"))
    cycles, transitions = 500, 0
    started = time.perf_counter()
    for _ in range(cycles):
        fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT, code=1006))  # -> backing_off
        fakes.clock.run_next()  # -> redialing
        fakes.signaling.complete_open()  # -> restoring
        fakes.signaling.answer_join(joined_ok(resume_id="s", resumed=True))  # -> connected
        transitions += 5
    elapsed = time.perf_counter() - started
    assert machine.state == "connected"
    assert machine.metrics["recoveries"] == cycles
    rate, each = transitions / elapsed, elapsed / transitions * 1e6
    print(f"\nmachine: {rate:,.0f} transitions/s ({each:.0f} µs each)")


def test_bench_memory_per_machine() -> None:
    """Memory of one connected machine (core only, fakes for ports)."""
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    machines = []
    for _ in range(100):
        fakes = Fakes.create()
        machine = ConnectionMachine(Settings("ws://bench/ptt", "ops", token="t"), fakes.ports())
        machine.send("connect")
        machines.append((machine, fakes))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(machines) == 100
    print(f"\nmemory: {grown / 100 / 1024:.1f} KiB per machine (with its fakes)")


async def test_bench_reconnect_time_on_loopback() -> None:
    """Time from a TCP reset to a restored session (signaling only), 20 times."""
    async with PttServer(SECRET) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        manager = ConnectionManager(
            proxy.url_for("/ptt"),
            channel="ops",
            token=mint_token(SECRET, "bench", "ops", 600),
            media=False,
            backoff=FixedSchedule((0.0,)),
            log_transitions=False,
        )
        await manager.connect()
        await manager.wait_for("connected", 10)
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            proxy.reset_now()
            await manager.wait_for("reconnecting", 10)
            await manager.wait_for("connected", 10)
            samples.append(time.perf_counter() - started)
        await manager.disconnect()
    assert len(samples) == 20
    samples.sort()
    median, worst = statistics.median(samples) * 1000, samples[-1] * 1000
    print(
        f"\nreconnect (reset -> restored, 0 s backoff): median {median:.1f} ms, max {worst:.1f} ms"
    )


async def test_bench_fleet_survives_a_server_restart() -> None:
    """50 signaling-only clients (a load-test fleet) reconnect after a restart (1001)."""
    fleet = 50
    server = PttServer(SECRET, max_members=fleet + 1, max_rps=1000)
    await server.start()
    port = server.port
    clients = [
        ConnectionManager(
            server.url,
            channel="ops",
            token=mint_token(SECRET, f"bot{i}", "ops", 600),
            media=False,
            backoff=FixedSchedule((0.2, 0.4, 0.8)),
            log_transitions=False,
        )
        for i in range(fleet)
    ]
    try:
        await asyncio.gather(*(c.connect() for c in clients))
        await asyncio.gather(*(c.wait_for("connected", 30) for c in clients))
        started = time.perf_counter()
        await server.close()
        server = PttServer(SECRET, port=port, max_members=fleet + 1, max_rps=1000)
        await server.start()
        await asyncio.gather(
            *(c.wait_for("reconnecting", 30) for c in clients if c.state != "reconnecting")
        )
        await asyncio.gather(*(c.wait_for("connected", 30) for c in clients))
        elapsed = time.perf_counter() - started
        assert all(c.state == "connected" for c in clients)
        print(f"\nfleet: {fleet} clients back after a server restart in {elapsed:.2f} s")
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients))
        await server.close()
