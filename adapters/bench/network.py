"""The client's own network lost and back: link up to ``connected`` with the OS network
watcher on, side by side with it off (the backoff waited out). Needs root (a private
network namespace); without it the row says so instead of a figure."""

from __future__ import annotations

from ..testing.netscenario import NetnsUnavailable, network_return_scenario
from .report import Report, Row

GROUP = "network back"


async def network_return(report: Report, outage: float, cap: float) -> None:
    backoff = (0.5, 1.0, cap)
    try:
        on = await network_return_scenario(outage=outage, backoff=backoff, network_watch=True)
        off = await network_return_scenario(outage=outage, backoff=backoff, network_watch=False)
    except NetnsUnavailable as exc:
        note = f"skipped: {exc}"
        report.add(Row(GROUP, "link up -> connected", "s", {"watch on": None}, "-", note=note))
        return
    report.add(
        Row(
            GROUP,
            f"client network lost {outage:g} s (backoff cap {cap:g} s): link up -> connected",
            "s",
            {"watch on": _seconds(on), "watch off": _seconds(off)},
            "< 0.3 s with the watch on",
            "watch on/watch off",
            note=f"backoff left at link up: {_seconds(on, 'remaining_backoff')} s; "
            f"network-started attempts: {on.get('network_attempts')}",
        )
    )


def _seconds(
    figures: dict[str, float | int | bool | None], key: str = "link_up_to_connected"
) -> float | None:
    value = figures.get(key)
    return round(float(value), 3) if isinstance(value, (int, float)) else None
