"""The soak loop: one fault a cycle, every knocked-out client back to ``connected``,
one message a cycle counted at every receiver, resources sampled every few cycles."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import probes
from .faults import FAULTS, Fault, inject
from .report import Bounds, Cycle, Report
from .rig import SEQ, Client, Rig

#: Seconds a cycle may take to bring every client back before it counts as stuck.
RECOVERY_LIMIT = 30.0


@dataclass(frozen=True)
class SoakConfig:
    cycles: int = 1000
    clients: int = 3  # signaling-only managers
    media_clients: int = 0  # managers with aiortc media (the server gets its SFU)
    faults: tuple[Fault, ...] = FAULTS  # taken in turn
    sample_every: int = 50
    warmup: int | None = None  # default: a tenth of the run, at least one sample period
    seed: int = 1
    bounds: Bounds = field(default_factory=Bounds)
    #: Seconds a message may take to reach every receiver once everyone is connected
    #: (then the cycle moves on; a late arrival still counts, a loss costs this wait).
    delivery_limit: float = 5.0

    def warmup_cycles(self) -> int:
        if self.warmup is not None:
            return self.warmup
        return max(self.sample_every, self.cycles // 10)


async def run_soak(config: SoakConfig, progress: Callable[[str], None] | None = None) -> Report:
    """Run the soak; the :class:`Report` holds every figure and the verdict."""
    if config.clients + config.media_clients < 2:
        raise ValueError("a soak needs at least two clients (a sender and a receiver)")
    rng = random.Random(config.seed)
    report = Report(warmup=config.warmup_cycles(), bounds=config.bounds)
    rig = Rig(config.clients, config.media_clients)
    started = time.monotonic()
    try:
        await rig.start()
        report.samples.append(await _sample(rig, 0))
        for number in range(1, config.cycles + 1):
            fault = config.faults[(number - 1) % len(config.faults)]
            report.cycles.append(
                await _cycle(rig, number, fault, rng=rng, report=report, config=config)
            )
            if number % config.sample_every == 0 or number == config.cycles:
                report.samples.append(await _sample(rig, number))
                if progress is not None:
                    progress(_progress_line(report))
        await asyncio.sleep(1.0)  # a late duplicate would still arrive within this
        _count_messages(rig, report)
    finally:
        await rig.close()
        report.seconds = time.monotonic() - started
    return report


async def _cycle(
    rig: Rig, number: int, fault: Fault, *, rng: random.Random, report: Report, config: SoakConfig
) -> Cycle:
    loop = asyncio.get_running_loop()
    sender = rig.members[number % len(rig.members)]
    marks = {c.name: c.watch.entries for c in rig.members}
    began = loop.time()
    hit = await inject(fault, rig, rng)
    # A restarted server remembers nothing: only a message sent once everyone is back is
    # covered by the delivery guarantee. After the other faults the message goes out at
    # once, into the outage: queued, unconfirmed and resent, replayed and deduplicated.
    if fault is not Fault.RESTART:
        _send(sender, number, report)

    def back() -> bool:
        knocked = (c for c in rig.members if c.name in hit)
        return all(c.watch.entries > marks[c.name] for c in knocked) and all(
            c.connected for c in rig.members
        )

    recovered = await rig.until(back, RECOVERY_LIMIT)
    recovery = loop.time() - began if recovered else None
    if not recovered:
        states = {c.name: (c.manager.detail, c.watch.errors[-1:]) for c in rig.members}
        report.stuck.append(f"cycle {number} ({fault}): {states}")
        await rig.until(lambda: all(c.connected for c in rig.members), RECOVERY_LIMIT)
    if fault is Fault.RESTART:
        _send(sender, number, report)
    receivers = [c for c in rig.members if c is not sender]
    await rig.until(lambda: all(c.watch.received[number] for c in receivers), config.delivery_limit)
    return Cycle(number, str(fault), recovery, {k: str(v) for k, v in hit.items()}, sender.name)


def _send(sender: Client, number: int, report: Report) -> None:
    if sender.manager.state in ("connecting", "connected", "reconnecting"):
        sender.manager.send_message({SEQ: number})
        report.sent += 1
        sender.watch.sent.append(number)


async def _sample(rig: Rig, cycle: int) -> probes.Sample:
    await asyncio.sleep(0.3)  # closing sockets and finished tasks go away first
    return probes.take(cycle, rig.footprint())


def _count_messages(rig: Rig, report: Report) -> None:
    cycles = {c.number: c for c in report.cycles}
    for sender in rig.members:
        for seq in sender.watch.sent:
            for receiver in rig.members:
                if receiver is sender:
                    continue
                report.expected += 1
                seen = receiver.watch.received[seq]
                if seen:
                    report.delivered += 1
                    report.duplicated += seen - 1
                else:
                    report.lost.append((seq, receiver.name))
                    cycle = cycles[seq]
                    report.lost_by_fault[cycle.fault] += 1
                    got = cycle.hit.get(receiver.name, "none"), cycle.hit.get(sender.name, "none")
                    report.lost_how["/".join(got)] += 1


def _progress_line(report: Report) -> str:
    last = report.samples[-1]
    times = report.recoveries()
    median = sorted(times)[len(times) // 2] if times else 0.0
    return (
        f"cycle {last.cycle}: tasks {last.tasks} fds {last.fds} threads {last.threads} "
        f"pcs {last.pcs} rss {last.rss_mb:.1f} MB, recovery median {median:.2f} s, "
        f"stuck {len(report.stuck)}"
    )
