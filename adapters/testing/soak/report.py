"""What a soak found, as plain data and as the printed tables: growth per 100 cycles of
each resource after warm-up against its bound, recovery times, messages lost and
duplicated, and one verdict."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from .probes import RESOURCES, Sample


@dataclass(frozen=True)
class Bounds:
    """Allowed growth per 100 cycles after warm-up (least-squares slope of the samples).

    A leak of one task (fd, thread, peer connection) per cycle grows by 100; below one
    per 100 cycles is flat. RSS: the allocator's high-water mark moves a little in a
    long run, a per-cycle leak of 20 kB would already show as 2 MB."""

    tasks: float = 1.0
    fds: float = 1.0
    threads: float = 1.0
    pcs: float = 1.0
    rss_mb: float = 2.0

    def of(self, resource: str) -> float:
        return float(getattr(self, resource))


@dataclass
class Cycle:
    number: int
    fault: str
    recovery: float | None  # seconds from the fault to every knocked-out client back
    hit: dict[str, str]  # client name -> the fault it got (mixed cycles differ per client)
    sender: str


@dataclass
class Report:
    cycles: list[Cycle] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    warmup: int = 0
    bounds: Bounds = field(default_factory=Bounds)
    sent: int = 0
    expected: int = 0  # deliveries expected: every message at every other client
    delivered: int = 0  # distinct (message, receiver) pairs seen
    lost: list[tuple[int, str]] = field(default_factory=list)  # (seq, receiver)
    #: Each loss as "fault the receiver got / fault the sender got": the pattern matters.
    lost_how: Counter[str] = field(default_factory=Counter)
    duplicated: int = 0  # deliveries beyond the first
    lost_by_fault: Counter[str] = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)  # cycles whose clients did not return
    seconds: float = 0.0

    # --- figures ---------------------------------------------------------------------
    def after_warmup(self) -> list[Sample]:
        return [s for s in self.samples if s.cycle >= self.warmup]

    def growth(self, resource: str) -> float:
        """Least-squares slope per 100 cycles of ``resource`` over the samples after
        warm-up (0 with fewer than two)."""
        points = [(float(s.cycle), s.value(resource)) for s in self.after_warmup()]
        if len(points) < 2:
            return 0.0
        xs = [x for x, _ in points]
        if max(xs) == min(xs):
            return 0.0
        slope = statistics.linear_regression(xs, [y for _, y in points]).slope
        return slope * 100.0

    def recoveries(self, fault: str | None = None) -> list[float]:
        return [
            c.recovery
            for c in self.cycles
            if c.recovery is not None and (fault is None or c.fault == fault)
        ]

    def leaks(self) -> list[str]:
        """The resources whose growth exceeds their bound."""
        return [r for r in RESOURCES if self.growth(r) > self.bounds.of(r)]

    @property
    def ok(self) -> bool:
        return not self.leaks() and not self.lost and not self.duplicated and not self.stuck

    # --- printing --------------------------------------------------------------------
    def lines(self) -> list[str]:
        out = [f"soak: {len(self.cycles)} cycles in {self.seconds:.0f} s, warm-up {self.warmup}"]
        out += self._resource_table()
        out += self._recovery_table()
        out.append(
            f"messages: {self.sent} sent, {self.expected} deliveries expected, "
            f"{self.delivered} delivered, {len(self.lost)} lost, {self.duplicated} duplicated"
        )
        if self.lost:
            shown = ", ".join(f"#{seq}->{who}" for seq, who in self.lost[:10])
            out.append(f"  lost by fault: {dict(self.lost_by_fault)}; first: {shown}")
            out.append(f"  lost as receiver/sender fault: {dict(self.lost_how)}")
        out.extend(f"  stuck: {line}" for line in self.stuck[:10])
        verdict = "PASS" if self.ok else "FAIL"
        problems = [*(f"{r} grows" for r in self.leaks())]
        if self.lost or self.duplicated:
            problems.append("messages lost or duplicated")
        if self.stuck:
            problems.append(f"{len(self.stuck)} cycles did not recover")
        out.append(f"verdict: {verdict}" + (f" ({'; '.join(problems)})" if problems else ""))
        return out

    def _resource_table(self) -> list[str]:
        kept = self.after_warmup()
        header = f"{'resource':<10}{'warm-up':>10}{'last':>10}{'min':>10}{'max':>10}"
        out = [header + f"{'growth/100':>12}{'bound':>8}  ok"]
        for r in RESOURCES:
            if not kept:
                break
            values = [s.value(r) for s in kept]
            growth, bound = self.growth(r), self.bounds.of(r)
            flat = "yes" if growth <= bound else "NO"
            out.append(
                f"{r:<10}{values[0]:>10.1f}{values[-1]:>10.1f}{min(values):>10.1f}"
                f"{max(values):>10.1f}{growth:>12.2f}{bound:>8.1f}  {flat}"
            )
        if kept:
            first, last = kept[0].server, kept[-1].server
            changed = {k: f"{first.get(k)}->{v}" for k, v in last.items() if first.get(k) != v}
            out.append(f"server state at the last sample: {last}")
            if changed:
                out.append(f"  changed since warm-up: {changed}")
        return out

    def _recovery_table(self) -> list[str]:
        out = [f"{'recovery (s)':<14}{'cycles':>8}{'median':>9}{'p95':>9}{'max':>9}"]
        faults = sorted({c.fault for c in self.cycles})
        for fault in [*faults, None]:
            times = sorted(self.recoveries(fault))
            if not times:
                continue
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            out.append(
                f"{fault or 'all':<14}{len(times):>8}{statistics.median(times):>9.3f}"
                f"{p95:>9.3f}{times[-1]:>9.3f}"
            )
        return out
