"""One client's figures, each next to what it is compared with.

- recovery after a TCP reset, to ``connected``, minus the backoff wait (a signal-only
  resume on the reference server);
- the engine's cost per transition next to a bare two-state python-statemachine chart;
- memory per machine (tracemalloc), split by who allocated it;
- silent-blackhole detection with our link defaults next to websockets' defaults.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections import Counter
from typing import Any

from statemachine import State, StateChart
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from adapters.backends.reference import ReferenceBackend, SignalingOptions
from adapters.manager import ConnectionManager
from adapters.server import PttServer, mint_token
from adapters.testing.faultproxy import FaultProxy
from fsm import ConnectionMachine, LinkError, Settings
from fsm.backoff import FixedSchedule
from fsm.errors import Cause
from fsm.testing import Fakes, joined_ok

from .report import Report, Row, clean, median, p95

SECRET = "bench-secret-0123456789abcdef0123456789"
GROUP = "one client"


class _Bare(StateChart[Any]):
    """The smallest chart: what python-statemachine itself costs per transition."""

    a = State(initial=True)
    b = State()
    flip = a.to(b) | b.to(a)


def _our_transition_us(cycles: int) -> float:
    fakes = Fakes.create()
    machine = ConnectionMachine(
        Settings("ws://bench/ptt", "ops", token="t", backoff=FixedSchedule((1.0,))),
        fakes.ports(media=False),
    )
    machine.send("connect")
    fakes.signaling.complete_open()
    fakes.signaling.answer_join(joined_ok(resume_id="s"))
    started = time.perf_counter()
    for _ in range(cycles):
        fakes.signaling.lose(LinkError(cause=Cause.TRANSIENT, code=1006))  # -> backing_off
        fakes.clock.run_next()  # -> redialing
        fakes.signaling.complete_open()  # -> restoring
        fakes.signaling.answer_join(joined_ok(resume_id="s", resumed=True))  # -> connected
    elapsed = time.perf_counter() - started
    if machine.metrics["recoveries"] != cycles:
        raise RuntimeError("the engine benchmark did not complete its cycles")
    return elapsed / (cycles * 5) * 1e6  # five transitions a cycle (see the comments)


def _bare_transition_us(transitions: int) -> float:
    chart = _Bare()
    started = time.perf_counter()
    for _ in range(transitions):
        chart.send("flip")
    return (time.perf_counter() - started) / transitions * 1e6


def engine(report: Report, repeats: int, cycles: int) -> None:
    ours = [_our_transition_us(cycles) for _ in range(repeats)]
    bare = [_bare_transition_us(cycles * 5) for _ in range(repeats)]
    for label, pick in (("median", median), ("p95", p95)):
        report.add(
            Row(
                GROUP,
                f"engine cost per transition, {label} of {repeats} runs",
                "µs",
                {"ours": clean(pick(ours)), "bare StateChart": clean(pick(bare))},
                "-",
                "ours/bare StateChart",
                note="full outage cycle on the fakes vs a 2-state flip",
            )
        )


def memory(report: Report, machines: int) -> None:
    """tracemalloc growth per connected machine (with its fakes), by allocating package."""
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    kept = []
    for _ in range(machines):
        fakes = Fakes.create()
        machine = ConnectionMachine(Settings("ws://bench/ptt", "ops", token="t"), fakes.ports())
        machine.send("connect")
        kept.append((machine, fakes))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    by_package: Counter[str] = Counter()
    by_line: Counter[str] = Counter()
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        path = frame.filename
        package = next(
            (p for p in ("statemachine", "fsm", "adapters") if f"/{p}/" in path), "other"
        )
        by_package[package] += stat.size_diff
        if package == "statemachine":
            by_line[f"{path.rsplit('/statemachine/', 1)[-1]}:{frame.lineno}"] += stat.size_diff
    total = sum(by_package.values()) / machines / 1024
    top = ", ".join(
        f"{line} {size / machines / 1024:.0f} KiB" for line, size in by_line.most_common(3)
    )
    cells: dict[str, float | None] = {"total": clean(total)}
    cells.update({k: by_package[k] / machines / 1024 for k in ("statemachine", "fsm", "other")})
    report.add(
        Row(
            GROUP,
            f"memory per machine (tracemalloc, {machines} machines)",
            "KiB",
            cells,
            "<= 250 KiB",
            "statemachine/total",
            note=f"top python-statemachine lines: {top}",
        )
    )
    del kept


async def recovery(report: Report, samples: int) -> None:
    """Reset to ``connected`` again (signal-only resume), minus the backoff wait."""
    policy = FixedSchedule((0.0,))  # waits min_delay: subtracted below
    wait = policy.delay(1)
    async with PttServer(SECRET) as server, FaultProxy("127.0.0.1", server.port) as proxy:
        manager = ConnectionManager(
            proxy.url_for("/ptt"),
            channel="ops",
            token=mint_token(SECRET, "bench", "ops", 600),
            media=False,
            backoff=policy,
            log_transitions=False,
        )
        await manager.connect(wait=True, timeout=10)
        times: list[float] = []
        resumed = 0
        for _ in range(samples):
            started = time.perf_counter()
            proxy.reset_now()
            await manager.wait_for("reconnecting", 10)
            await manager.wait_for("connected", 10)
            times.append((time.perf_counter() - started - wait) * 1000)
            resumed += bool(manager.machine.plan.resumed)
            await asyncio.sleep(0.05)
        await manager.disconnect()
    for label, pick in (("median", median), ("p95", p95)):
        report.add(
            Row(
                GROUP,
                f"recovery after a reset minus backoff, {label} of {samples}",
                "ms",
                {"reference server": clean(pick(times))},
                "-",
                note=f"signal-only resume {resumed}/{samples}; backoff {wait * 1000:.0f} ms",
            )
        )


async def _ours_detects(url: str, proxy: FaultProxy, scale: float) -> float:
    options = SignalingOptions()
    if scale != 1.0:
        options = SignalingOptions(
            ping_interval=options.ping_interval * scale,
            ping_timeout=options.ping_timeout * scale,
            close_timeout=options.close_timeout * scale,
        )
    manager = ConnectionManager(
        url,
        channel="ops",
        token=mint_token(SECRET, "bh-ours", "ops", 600),
        media=False,
        backend=ReferenceBackend(options=options),
        log_transitions=False,
    )
    await manager.connect(wait=True, timeout=10)
    started = time.perf_counter()
    proxy.blackhole()
    try:
        await manager.wait_for("reconnecting", 200 * scale)
        return (time.perf_counter() - started) / scale
    finally:
        await manager.disconnect()


async def _websockets_detects(url: str, proxy: FaultProxy, scale: float) -> float:
    # websockets' defaults: ping_interval 20, ping_timeout 20, close_timeout 10.
    async with connect(
        url,
        additional_headers={"Authorization": f"Bearer {mint_token(SECRET, 'bh-ws', 'ops', 600)}"},
        ping_interval=20 * scale,
        ping_timeout=20 * scale,
        close_timeout=10 * scale,
    ) as ws:
        started = time.perf_counter()
        proxy.blackhole()
        try:
            async with asyncio.timeout(200 * scale):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
        return (time.perf_counter() - started) / scale


async def blackhole(report: Report, scale: float) -> None:
    """Both detections at once, each through its own proxy, on one server."""
    async with (
        PttServer(SECRET) as server,
        FaultProxy("127.0.0.1", server.port) as ours_proxy,
        FaultProxy("127.0.0.1", server.port) as ws_proxy,
    ):
        ours, theirs = await asyncio.gather(
            _ours_detects(ours_proxy.url_for("/ptt"), ours_proxy, scale),
            _websockets_detects(ws_proxy.url_for("/ptt"), ws_proxy, scale),
        )
    note = "link defaults ping 5 s + 5 s, close 1 s vs 20 + 20, close 10"
    if scale != 1.0:
        note += f"; measured with every timeout x{scale:g}, shown / {scale:g}"
    report.add(
        Row(
            GROUP,
            "silent blackhole: time to notice",
            "s",
            {"ours": clean(ours), "websockets defaults": clean(theirs)},
            "-",
            "ours/websockets defaults",
            note=note,
        )
    )
