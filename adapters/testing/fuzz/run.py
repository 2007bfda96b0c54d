"""Draw a corpus with Hypothesis and run every input through its parser.

The pure targets (the codec's decoders, the server's envelope parser) are checked as each
example is drawn; the frames for the socket legs are collected, then sent (:mod:`.legs`).
Every unexpected exception is recorded with its input and traceback; a run never stops at
the first.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from . import checks, strategies
from .legs import Findings, link_leg, server_leg

#: Each example is one of these targets with its input.
TARGETS: dict[str, st.SearchStrategy[Any]] = {
    "join_answer": st.one_of(strategies.join_answer, strategies.join_answer, strategies.anything),
    "floor_answer": st.one_of(
        strategies.floor_answer, strategies.floor_answer, strategies.anything
    ),
    "notification": strategies.notifications,
    "server_parse": strategies.client_frames,
    "link_frame": strategies.server_frames,
    "server_request": strategies.client_frames,
}
_PURE: dict[str, Callable[[Any], str]] = {
    "join_answer": checks.join_answer,
    "floor_answer": checks.floor_answer,
    "notification": lambda case: checks.notification(*case),
    "server_parse": checks.server_parse,
}


@dataclass
class FuzzReport:
    frames: int = 0
    seconds: float = 0.0
    findings: Findings = field(default_factory=Findings)

    @property
    def rate(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        out = [f"fuzz: {self.frames} inputs in {self.seconds:.1f} s ({self.rate:.0f}/s)"]
        for outcome, count in sorted(self.findings.outcomes.items()):
            out.append(f"  {outcome:<58}{count:>8}")
        crashes = self.findings.crashes
        out.append(f"findings: {len(crashes)}")
        for leg, frame, why in crashes[:20]:
            out.append(f"  [{leg}] {frame}\n    {why.strip().splitlines()[-1][:300]}")
        return out


def draw(frames: int, seed: int, findings: Findings) -> dict[str, list[Any]]:
    """Draw ``frames`` examples; check the pure ones now, return the socket legs' frames."""
    collected: dict[str, list[Any]] = {"link_frame": [], "server_request": []}
    cases = st.one_of(*(st.tuples(st.just(t), s) for t, s in TARGETS.items()))

    @hypothesis_seed(seed)
    @settings(
        max_examples=frames,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases)
    def one(case: tuple[str, Any]) -> None:
        target, payload = case
        if target in collected:
            collected[target].append(payload)
            return
        try:
            findings.outcomes[f"{target} {_PURE[target](payload)}"] += 1
        except Exception:  # every other exception is what the fuzzer is looking for
            findings.crash(target, payload, traceback.format_exc())

    one()
    return collected


async def run_fuzz(frames: int = 100_000, seed: int = 1) -> FuzzReport:
    """Draw and run ``frames`` inputs; the report holds outcomes, findings and the rate."""
    report = FuzzReport()
    started = time.monotonic()
    collected = draw(frames, seed, report.findings)
    await link_leg(collected["link_frame"], report.findings)
    await server_leg(collected["server_request"], report.findings)
    report.seconds = time.monotonic() - started
    report.frames = sum(report.findings.outcomes.values()) - sum(
        v for k, v in report.findings.outcomes.items() if k.startswith("server closed")
    )
    return report
