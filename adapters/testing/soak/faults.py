"""The faults a soak cycle injects, and which clients each one knocks out."""

from __future__ import annotations

import asyncio
import random
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rig import Client, Rig

#: How long a blackhole lasts: longer than the clients' dead-link detection (about 0.6 s),
#: so every link through it is declared dead and redialled.
BLACKHOLE_SECONDS = 0.8


class Fault(StrEnum):
    RESET = "reset"  # RST every client's connection
    BLACKHOLE = "blackhole"  # every client's path goes silent for BLACKHOLE_SECONDS
    RESTART = "restart"  # the server closes (1001) and a fresh one starts on its port
    MIXED = "mixed"  # per client at random: reset, blackhole or nothing (one at least hit)


FAULTS = tuple(Fault)


async def inject(fault: Fault, rig: Rig, rng: random.Random) -> dict[str, Fault]:
    """Start ``fault``; return the clients it knocked out (they must come back), each with
    the fault it got.

    A blackhole is lifted ``BLACKHOLE_SECONDS`` later by a task of its own, so the caller
    can act while the clients are cut off."""
    clients = list(rig.members)
    every = {c.name: fault for c in clients}
    if fault is Fault.RESET:
        for client in clients:
            client.proxy.reset_now()
        return every
    if fault is Fault.BLACKHOLE:
        _blackhole(clients)
        return every
    if fault is Fault.RESTART:
        await rig.restart_server()
        return every
    picks = [rng.choice((Fault.RESET, Fault.BLACKHOLE, None)) for _ in clients]
    if not any(picks):
        picks[rng.randrange(len(picks))] = Fault.RESET
    for client, pick in zip(clients, picks, strict=True):
        if pick is Fault.RESET:
            client.proxy.reset_now()
    _blackhole([c for c, p in zip(clients, picks, strict=True) if p is Fault.BLACKHOLE])
    return {c.name: p for c, p in zip(clients, picks, strict=True) if p is not None}


def _blackhole(clients: list[Client]) -> None:
    if not clients:
        return
    for client in clients:
        client.proxy.blackhole()

    def lift() -> None:
        for client in clients:
            client.proxy.pass_through()

    asyncio.get_running_loop().call_later(BLACKHOLE_SECONDS, lift)
