"""Fuzzing both parsers of the reference protocol with Hypothesis.

Client side: the codec's decoders (join and floor answers, every notification) and raw
frames through a real client link. Server side: the envelope parser
(:mod:`adapters.server.wire`) and every request method with hostile data through a real
server's dispatch. Only typed refusals and drops are allowed; decoded values must satisfy
the :mod:`fsm.domain` invariants (:mod:`.checks`).

``ptt fuzz`` (or ``python -m adapters.testing.fuzz``) runs the full version (100,000
inputs); ``tests/fuzz`` runs short ones.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .legs import Findings
    from .run import FuzzReport, draw, run_fuzz

# Imported on first use: Hypothesis is a test dependency, and ``ptt`` builds its parser
# (``add_arguments``) for every command.
_HOMES = {"Findings": ".legs", "FuzzReport": ".run", "draw": ".run", "run_fuzz": ".run"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)


__all__ = ["Findings", "FuzzReport", "add_arguments", "draw", "main", "run_fuzz"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=100_000, help="inputs to draw")
    parser.add_argument("--seed", type=int, default=1)


def main(args: argparse.Namespace) -> int:
    """Run the fuzzer and print its outcome counts; exit 0 without findings, else 1."""
    import asyncio
    import logging
    import sys

    import structlog

    try:
        from .run import run_fuzz
    except ImportError as exc:  # a plain install has no Hypothesis
        print(
            f"ptt fuzz needs the test extra ({exc.name} is missing): pip install 'ptt-fsm[test]'",
            file=sys.stderr,
        )
        return 2

    # Each dropped frame is a warning: keep only errors (a crash logs one), on stderr.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
    report = asyncio.run(run_fuzz(args.frames, args.seed))
    print("\n".join(report.lines()), flush=True)
    return 0 if not report.findings.crashes else 1
