"""Runs the benchmarks in order, prints one table, writes the same figures as JSON."""

from __future__ import annotations

import asyncio
import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import micro
from .herd import HerdOptions, run_herd
from .network import network_return
from .report import Report, machine_info

#: Benchmark names for ``--only``.
NAMES = ("herd", "recovery", "engine", "memory", "blackhole", "network")


@dataclass(frozen=True)
class BenchOptions:
    quick: bool = False
    clients: int | None = None
    only: tuple[str, ...] = field(default=NAMES)
    json_path: Path | None = None


def _herd_options(options: BenchOptions) -> HerdOptions:
    if options.quick:
        return HerdOptions(
            clients=options.clients or 50,
            crash_seconds=(2.0,),
            restart_seconds=1.0,
            restart_spread=2.0,
            patience=20.0,
        )
    return HerdOptions(clients=options.clients or 1000)


async def _run(options: BenchOptions) -> Report:
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    herd = _herd_options(options)
    load = os.getloadavg()[0]
    report = Report(
        machine_info(date),
        f"loopback; {'quick' if options.quick else 'full'} mode; load average "
        f"{load:.2f} at start; herd N={herd.clients}",
    )
    quick = options.quick
    # The blackhole detections mostly wait: in full mode (about 50 s) they run while the
    # herd runs in its own processes; this process is idle then.
    blackhole = None
    if "blackhole" in options.only:
        blackhole = asyncio.create_task(micro.blackhole(report, 0.1 if quick else 1.0))
    if "herd" in options.only:
        await run_herd(herd, report)
    if blackhole is not None:
        await blackhole
    if "recovery" in options.only:
        await micro.recovery(report, 8 if quick else 30)
    if "engine" in options.only:
        micro.engine(report, 3 if quick else 7, 200 if quick else 1000)
    if "memory" in options.only:
        micro.memory(report, 20 if quick else 100)
    if "network" in options.only:
        await network_return(report, 2.0 if quick else 60.0, 6.0 if quick else 30.0)
    return report


def run_bench(options: BenchOptions) -> Report:
    """Run what ``options`` selects; print the table; write JSON if asked."""
    report = asyncio.run(_run(options))
    print(report.table(), flush=True)
    if options.json_path is not None:
        report.write_json(options.json_path)
    return report
