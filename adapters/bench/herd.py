"""The herd: N clients lose the server together; how fast and how gently do they return?

Three processes: the server and its fault proxy (:mod:`.serverside`), one client process
per variant (:mod:`.herdclient`), and this orchestrator, which only sends commands and
computes figures. Per variant the same client process lives through every scenario in
turn (a crash with the path refused for each of ``crash_seconds``, then a graceful
restart), so its CPU and RSS are its own.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from dataclasses import dataclass
from typing import Any

from .herdclient import CHANNEL_SIZE
from .report import Report, Row, clean, median, p95

SECRET = "bench-secret-0123456789abcdef0123456789"
LABELS = {"default": "default", "fleet": "fleet", "websockets": "websockets"}


@dataclass(frozen=True)
class HerdOptions:
    clients: int = 1000
    crash_seconds: tuple[float, ...] = (20.0, 60.0)
    restart_seconds: float = 3.0
    restart_spread: float = 2.0
    #: Seconds after the path returns before a client still not back counts as stuck.
    patience: float = 90.0
    variants: tuple[str, ...] = ("default", "fleet", "websockets")
    shed: bool = True


class _Child:
    """A bench child process: one JSON command a line in, one JSON answer a line out."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, module: str, *args: str) -> _Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # the handshake log of a big herd is one long line
        )
        return cls(proc)

    async def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench child {self.proc.pid} ended early")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def ask(self, cmd: str, **data: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **data}) + "\n").encode())
        await self.proc.stdin.drain()
        return await self.read()

    async def quit(self) -> None:
        if self.proc.returncode is None:
            try:
                async with asyncio.timeout(30):
                    await self.ask("quit")
                    await self.proc.wait()
            except (TimeoutError, RuntimeError, BrokenPipeError, ConnectionResetError):
                self.proc.kill()
                await self.proc.wait()


@dataclass
class _Outcome:
    scenario: str
    variant: str
    back: list[float]  # seconds after the path returned, per client that came back
    stuck: int
    cascade: int
    cpu: float
    peak: int
    mean: float
    shed: int


def _bins(times: list[float], start: float, end: float, width: float = 0.1) -> tuple[int, float]:
    """Peak and mean handshakes per ``width`` seconds over [start, end]."""
    bins = max(1, math.ceil((end - start) / width))
    counts = [0] * bins
    for t in times:
        if start <= t <= end:
            counts[min(bins - 1, int((t - start) / width))] += 1
    return max(counts), sum(counts) / bins


async def _scenario(
    server: _Child, herd: _Child, name: str, command: dict[str, Any], options: HerdOptions
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    await herd.ask("mark")
    fault = await server.ask(**command)
    await herd.ask("returned")
    result = await herd.ask("wait", deadline=fault["returned"] + options.patience)
    log = await server.ask("handshakes", since=fault["returned"])
    return fault, result, log


def _outcome(
    scenario: str, variant: str, fault: dict[str, Any], result: dict[str, Any], log: dict[str, Any]
) -> _Outcome:
    returned = fault["returned"]
    back = [t - returned for t in result["back"] if t is not None]
    stuck = sum(1 for t in result["back"] if t is None)
    end = returned + max(back, default=0.0)
    times = [t for t, _ in log["handshakes"] if t <= end + 0.05]
    peak, mean = _bins(times, returned, end)
    shed = sum(1 for t, o in log["handshakes"] if o == "503" and t <= end + 0.05)
    cascade = sum(1 for a in result["attempts"] if a > 1)
    return _Outcome(scenario, variant, back, stuck, cascade, result["cpu"], peak, mean, shed)


async def run_herd(options: HerdOptions, report: Report) -> None:
    n = options.clients
    server_args = ["--secret", SECRET, "--members", str(n + 10)]
    if not options.shed:
        server_args.append("--no-shed")
    server = await _Child.start("adapters.bench.serverside", *server_args)
    outcomes: list[_Outcome] = []
    rss: dict[str, float | None] = {}
    try:
        url = (await server.read())["url"]
        for variant in options.variants:
            herd = await _Child.start(
                "adapters.bench.herdclient", "--url", url, "--secret", SECRET,
                "--variant", variant, "--n", str(n),
            )  # fmt: skip
            try:
                started = await herd.ask("connect", timeout=max(30.0, n / 20))
                marked = await herd.ask("rss")  # with everyone connected
                rss[variant] = (marked["rss"] - started["rss0"]) / max(1, started["connected"])
                for seconds in options.crash_seconds:
                    command = {"cmd": "crash", "seconds": seconds}
                    name = f"crash {seconds:g} s"
                    fault, result, log = await _scenario(server, herd, name, command, options)
                    outcomes.append(_outcome(name, variant, fault, result, log))
                command = {
                    "cmd": "restart",
                    "seconds": options.restart_seconds,
                    "spread": options.restart_spread,
                }
                name = f"restart {options.restart_seconds:g} s"
                fault, result, log = await _scenario(server, herd, name, command, options)
                outcomes.append(_outcome(name, variant, fault, result, log))
            finally:
                await herd.quit()
    finally:
        await server.quit()
    _rows(options, outcomes, rss, report)


def _rows(
    options: HerdOptions, outcomes: list[_Outcome], rss: dict[str, float | None], report: Report
) -> None:
    n = options.clients
    group = f"herd: {n} signaling-only clients, {CHANNEL_SIZE} a channel, server + proxy apart"
    ratio = "fleet/websockets" if {"fleet", "websockets"} <= set(options.variants) else None
    scenarios = list(dict.fromkeys(o.scenario for o in outcomes))
    by = {(o.scenario, o.variant): o for o in outcomes}

    def cells(get: Any, scenario: str) -> dict[str, float | None]:
        return {
            v: clean(float(get(by[scenario, v]))) if (scenario, v) in by else None
            for v in options.variants
        }

    for scenario in scenarios:
        restart = scenario.startswith("restart")
        back_target = f"<= {options.restart_spread:g} s (restart time + ~2 s)" if restart else "-"
        rows = [
            ("all back after the path returns", "s", lambda o: max(o.back, default=math.nan),
             back_target),
            ("per-client back after return, median", "s", lambda o: median(o.back), "-"),
            ("per-client back after return, p95", "s", lambda o: p95(o.back), "-"),
            ("handshakes per 100 ms, peak", "", lambda o: o.peak, "-"),
            ("handshakes per 100 ms, mean", "", lambda o: o.mean, "-"),
            ("503 shed answers", "", lambda o: o.shed, "-"),
            ("cascade: >1 attempt after return", "clients", lambda o: o.cascade, "-"),
            ("client CPU (fault to all back)", "s", lambda o: o.cpu, "-"),
            ("stuck", "clients", lambda o: o.stuck, "0"),
        ]  # fmt: skip
        for name, unit, get, target in rows:
            report.add(Row(group, f"{scenario}: {name}", unit, cells(get, scenario), target, ratio))
    report.add(
        Row(
            group,
            "RSS per connected client",
            "KiB",
            {v: clean(r / 1024) if r is not None else None for v, r in rss.items()},
            "<= 250 KiB",
            ratio,
            note="client process RSS growth / clients",
        )
    )
