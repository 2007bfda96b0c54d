"""``ptt demo``'s network row: the client's *own* network goes away, long enough for its
backoff to reach the cap, and comes back. A client in a private network namespace (its
veth goes down, then up; see :mod:`adapters.testing.netscenario`) is back in about a
tenth of a second from link up instead of waiting out what is left of its backoff.
Needs root; otherwise the row says it was skipped.
"""

from __future__ import annotations

from adapters.testing.netscenario import NetnsUnavailable, network_return_scenario

from .demo_kit import FaultResult

#: (outage in seconds, backoff delays; the last is the cap). The full run is the story's
#: minute offline with a 30 s cap; ``--quick`` keeps the point in a few seconds.
FULL = (60.0, (1.0, 2.0, 5.0, 10.0, 20.0, 30.0))
QUICK = (3.0, (0.3, 0.6, 6.0))
RECOVERY_BOUND = 2.0  # generous: a veth on a loaded 2-core machine; typically 0.1 s


async def network_lost(quick: bool) -> FaultResult:
    """Run the scenario and judge it: connected again within :data:`RECOVERY_BOUND` of
    link up, through an attempt the network watcher started."""
    outage, backoff = QUICK if quick else FULL
    result = FaultResult(f"client network lost for {outage:g} s")
    try:
        figures = await network_return_scenario(outage=outage, backoff=backoff)
    except NetnsUnavailable as exc:
        result.passed, result.note = True, f"skipped: {exc}"
        return result
    except (RuntimeError, OSError, TimeoutError) as exc:  # the rig failed: say so, go on
        result.note = f"rig failed: {str(exc).splitlines()[0][:60]}"
        return result
    recovery, remaining = figures["link_up_to_connected"], figures["remaining_backoff"]
    result.detection = _seconds(figures["detection"])
    result.recovery = _seconds(recovery)
    result.passed = (
        isinstance(recovery, float)
        and recovery < RECOVERY_BOUND
        and bool(figures["network_attempts"])
    )
    left = f", {remaining:.1f} s of it left" if isinstance(remaining, float) else ""
    result.note = f"recovery from link up; backoff cap {figures['cap']:g} s{left}"
    return result


def _seconds(value: object) -> float | None:
    return value if isinstance(value, float) else None
