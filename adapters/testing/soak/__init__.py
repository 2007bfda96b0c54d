"""A soak: many fault cycles against the real reference server, watching for leaks.

Each cycle injects one fault through a :class:`~adapters.testing.faultproxy.FaultProxy`
per client (connection reset, a short blackhole, a server restart, or a mix per client),
waits for every knocked-out client to be ``connected`` again, and has one client send one
channel message that every other client must receive exactly once. Every few cycles it
samples this process's asyncio tasks, open fds, RSS, threads and live peer connections
(plus the server's per-client state) and finally prints their growth per 100 cycles after
warm-up against :class:`Bounds`, recovery times and a verdict.

``ptt soak`` (or ``python -m adapters.testing.soak``) runs the full version; the tests
in ``tests/soak`` run a short one with :func:`run_soak`.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING, Any

from .faults import FAULTS, Fault

if TYPE_CHECKING:
    from .probes import Sample
    from .report import Bounds, Report
    from .run import SoakConfig, run_soak

# Imported on first use: ``ptt`` builds its parser from ``add_arguments`` for every
# command, and the soak's world (server, manager, aiortc) is not what ``ptt token`` needs.
_HOMES = {
    "Bounds": ".report",
    "Report": ".report",
    "Sample": ".probes",
    "SoakConfig": ".run",
    "run_soak": ".run",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home, __name__), name)


__all__ = ["Bounds", "Fault", "Report", "Sample", "SoakConfig", "add_arguments", "main", "run_soak"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The soak's flags (shared by ``ptt soak`` and ``python -m adapters.testing.soak``)."""
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=3, help="signaling-only clients")
    parser.add_argument("--media-clients", type=int, default=0, help="clients with aiortc media")
    parser.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"comma-separated, taken in turn (default: {','.join(FAULTS)})",
    )
    parser.add_argument("--sample-every", type=int, default=50)
    parser.add_argument("--warmup", type=int, help="cycles before growth counts")
    parser.add_argument("--rss-bound", type=float, default=2.0, help="MB per 100 cycles")
    parser.add_argument("--seed", type=int, default=1)


def main(args: argparse.Namespace) -> int:
    """Run the soak, print its tables; exit 0 on PASS, 1 on FAIL."""
    import asyncio
    import logging
    import sys

    import structlog

    from .report import Bounds
    from .run import SoakConfig, run_soak

    # Errors only, to stderr: the tables are the output (a thousand reconnects log a lot).
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
    config = SoakConfig(
        cycles=args.cycles,
        clients=args.clients,
        media_clients=args.media_clients,
        faults=tuple(Fault(f.strip()) for f in args.faults.split(",") if f.strip()),
        sample_every=args.sample_every,
        warmup=args.warmup,
        seed=args.seed,
        bounds=Bounds(rss_mb=args.rss_bound),
    )
    report = asyncio.run(run_soak(config, progress=lambda line: print(line, flush=True)))
    print("\n".join(report.lines()), flush=True)
    return 0 if report.ok else 1
