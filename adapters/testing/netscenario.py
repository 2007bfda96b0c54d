"""The client's own network goes away and comes back, measured: one reusable scenario for
tests, ``ptt demo`` and benchmarks.

A reference server (signaling only) listens on the host end of a veth; a client runs in
its own network namespace on the other end (:mod:`.netns`, :mod:`.netclient`). The
client's link goes down long enough for its backoff to reach the cap, comes back up, and
the figures say how long the client took from ``ip link set up`` to ``connected`` against
how much of its backoff wait was left.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from adapters.server import PttServer, mint_token

from .netclient import NetClient, is_backoff, is_state
from .netns import ClientNamespace, netns_unavailable

SECRET = "ptt-netscenario-secret-0123456789abcdef"
CHANNEL = "netscenario"
Figures = dict[str, float | int | bool | None]


class NetnsUnavailable(RuntimeError):
    """This host cannot run the client in a namespace (the message says why, e.g.
    ``needs root``)."""


async def network_return_scenario(
    *,
    outage: float = 3.0,
    backoff: Sequence[float] = (0.5, 1.0, 8.0),
    network_watch: bool = True,
    ping: float = 1.0,
    workdir: Path | None = None,
) -> Figures:
    """Take the client's link down for at least ``outage`` seconds *and* until its backoff
    (``FixedSchedule(backoff)``; the last delay is the cap) waits the cap, then bring it up.

    ``ping`` is the keepalive interval and timeout (the client's only way to notice the
    loss without the watcher). Raises :class:`NetnsUnavailable` when not root or without
    ``ip``. Returns, in seconds unless said otherwise:

    * ``detection``: link down -> the client left ``connected``;
    * ``outage``: how long the link was really down;
    * ``cap``: the last backoff delay;
    * ``remaining_backoff``: what was left of the wait in progress at link up;
    * ``link_up_to_connected``: link up -> ``connected`` (``None``: not within
      ``remaining_backoff`` + 10 s);
    * ``network_attempts``, ``network_probes``, ``attempts``: the machine's counters
      (attempts started by the watcher, probes after a change, all attempts);
    * ``handshakes``: successful handshakes the server saw after link up;
    * ``network_watch``: as given.
    """
    why = netns_unavailable()
    if why is not None:
        raise NetnsUnavailable(why)
    cap = float(backoff[-1])
    work = workdir or Path(tempfile.mkdtemp(prefix="ptt-netscenario-"))
    async with ClientNamespace() as ns:
        server = PttServer(SECRET, ns.server_address)
        await server.start()
        client: NetClient | None = None
        try:
            client = await NetClient.start(
                ns.exec_argv,
                server.url,
                mint_token(SECRET, "roamer", CHANNEL, 3600),
                CHANNEL,
                backoff=backoff,
                ping_interval=ping,
                ping_timeout=ping,
                network_watch=network_watch,
                stderr=work / "client.stderr",
            )
            await client.wait(is_state("connected"), within=20)
            figures = await _outage(
                ns, server, client, outage=outage, backoff=backoff, detect_within=2 * ping + 10
            )
            figures.update(await client.metrics())
        finally:
            if client is not None:
                await client.close()
            await server.close()
    return {
        "detection": figures["detection"],
        "outage": figures["outage"],
        "cap": cap,
        "remaining_backoff": figures["remaining_backoff"],
        "link_up_to_connected": figures["link_up_to_connected"],
        "network_attempts": int(figures.get("network_attempts") or 0),
        "network_probes": int(figures.get("network_probes") or 0),
        "attempts": int(figures.get("attempts") or 0),
        "handshakes": figures["handshakes"],
        "network_watch": network_watch,
    }


async def _outage(
    ns: ClientNamespace,
    server: PttServer,
    client: NetClient,
    *,
    outage: float,
    backoff: Sequence[float],
    detect_within: float,
) -> dict[str, float | None]:
    cap = backoff[-1]
    mark = client.mark()
    down = await ns.link(up=False)
    lost = await client.wait(is_state("reconnecting"), mark, within=detect_within)
    # Every delay of the schedule once (the failed attempts are instant: no route).
    reach_cap = detect_within + sum(backoff) + 10
    await client.wait(lambda r: is_backoff(r) and r["delay"] >= cap, mark, within=reach_cap)
    await asyncio.sleep(max(0.0, down + outage - time.monotonic()))
    waiting = client.find(is_backoff, mark)[-1]
    handshakes = server.stats.handshakes["ok"]
    mark = client.mark()
    up = await ns.link(up=True)
    remaining = max(0.0, waiting["mono"] + waiting["delay"] - up)
    try:
        back = await client.wait(is_state("connected"), mark, within=remaining + 10)
    except TimeoutError:
        back = None
    return {
        "detection": lost["mono"] - down,
        "outage": up - down,
        "remaining_backoff": remaining,
        "link_up_to_connected": None if back is None else back["mono"] - up,
        "handshakes": server.stats.handshakes["ok"] - handshakes,
    }
