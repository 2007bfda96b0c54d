"""Issue 10 (defects 1, 12, 13) on real sockets: every message ends delivered or dropped
with its cause; an oversized or poisonous message costs at most one outage and never
blocks the ones after it; a server that never confirms gets a bounded number of copies;
a burst of 10,000 does not stall the event loop."""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

import fsm
from adapters.backends.reference import ReferenceBackend, SignalingOptions, protocol
from adapters.manager import ConnectionManager
from fsm.delivery import DropCause, InvalidMessage, MessageTooLarge

USER = "alice"


def numbers(world: Any) -> list[Any]:
    return [d.get("n") for d in world.server.stats.delivered[USER]]


async def test_a_message_above_the_limit_raises_at_once_and_nothing_reconnects(
    started: Any,
) -> None:
    """The 100 kB blob of defect 1: refused by send_message, counted; no outage."""
    world = started
    manager, trace = await world.connected()
    mark = len(trace.events)
    with pytest.raises(MessageTooLarge):
        manager.send_message({"blob": "x" * 100_000})
    after = manager.send_message({"n": 1})
    assert (await after).delivered
    assert numbers(world) == [1]
    assert trace.changes(mark) == []
    assert manager.metrics.dropped == {"too_large": 1}
    assert manager.metrics.episodes == 0


@pytest.mark.parametrize(
    "data",
    [
        {"at": datetime.datetime(2026, 1, 1)},
        {"tags": {"a"}},
        {"raw": b"x"},
        {"x": math.nan},
    ],
    ids=["datetime", "set", "bytes", "nan"],
)
async def test_data_that_is_not_json_raises_at_once_and_is_counted(
    started: Any, data: dict[str, Any]
) -> None:
    world = started
    manager, _ = await world.connected()
    with pytest.raises(InvalidMessage) as refused:
        manager.send_message(data)
    assert refused.value.cause is DropCause.INVALID
    assert manager.metrics.dropped == {"invalid": 1}
    assert (await manager.send_message({"n": 2})).delivered
    assert world.server.stats.methods(USER) == ["join", "message"]


async def test_a_message_the_server_closes_the_link_over_is_dropped_as_poison(
    world: Any,
) -> None:
    """The server's frame limit is below ours: its 1009 close costs one outage, the
    message is dropped as poison, the messages after it are delivered."""
    await world.start(max_message_size=4096)
    manager, trace = await world.connected(schedule=(0.1,))
    mark = len(trace.events)
    before = manager.send_message({"n": "before"})
    assert (await before).delivered
    poison = manager.send_message({"n": "poison", "pad": "x" * 8000})
    outcome = await asyncio.wait_for(poison, world.QUICK["request_timeout"] * 5)
    assert outcome.cause is DropCause.POISON
    assert outcome.error is not None
    assert "1009" in str(outcome.error)
    await trace.reach("connected", since=mark)
    later = [manager.send_message({"n": n}) for n in range(3)]
    assert all([(await d).delivered for d in later])
    await world.steady(lambda: manager.metrics.episodes, 1.0)  # and no further outage
    metrics = manager.metrics
    print(f"\npoison message: episodes={metrics.episodes} dropped={dict(metrics.dropped)}")
    assert metrics.episodes == 1
    assert trace.states(mark) == ["reconnecting", "connected"]
    assert metrics.dropped == {"poison": 1}
    assert numbers(world) == ["before", 0, 1, 2]


# --- a server that answers everything but messages ---------------------------------------
class Silent:
    """Answers join and ping like the reference server; swallows every message."""

    def __init__(self) -> None:
        self.copies: list[str] = []
        self.port = 0

    async def handler(self, ws: ServerConnection) -> None:
        async for frame in ws:
            request = json.loads(frame)
            method, data = request.get("method"), request.get("data", {})
            if method == protocol.MESSAGE:
                self.copies.append(data["msg_id"])
                continue
            answer: dict[str, Any] = {}
            if method == protocol.JOIN:
                answer = {"session_id": "s-1", "resumed": False, "peer_id": "p-1"}
            await ws.send(json.dumps({"id": request["id"], "ok": True, "data": answer}))


@pytest.fixture
async def silent() -> AsyncIterator[Silent]:
    server = Silent()
    subprotocols = [Subprotocol(protocol.SUBPROTOCOL)]
    async with serve(server.handler, "127.0.0.1", 0, subprotocols=subprotocols) as ws_server:
        server.port = ws_server.sockets[0].getsockname()[1]
        yield server


async def test_a_message_never_confirmed_is_sent_twice_then_undeliverable(
    silent: Silent,
) -> None:
    """Request timeout 1 s: one copy, one resend, then dropped as undeliverable; no
    more copies however long we wait, the link stays up."""
    options = SignalingOptions(request_timeout=1.0, ping_interval=0.5, ping_timeout=1.0)
    manager = ConnectionManager(
        f"ws://127.0.0.1:{silent.port}/ptt",
        channel="ops",
        token="t",
        media=False,
        network=False,
        backend=ReferenceBackend(options),
        backoff=fsm.FixedSchedule((0.1,)),
        log_transitions=False,
    )
    try:
        await manager.connect(wait=True, timeout=5.0)
        started = time.monotonic()
        outcome = await asyncio.wait_for(manager.send_message({"n": 1}), 10.0)
        took = time.monotonic() - started
        await asyncio.sleep(2.5)  # more than two request timeouts: nothing else goes out
        print(f"\nnever confirmed: {len(silent.copies)} copies, dropped after {took:.1f} s")
        assert outcome.cause is DropCause.UNDELIVERABLE
        assert len(silent.copies) == 2
        assert len(set(silent.copies)) == 1
        assert manager.metrics.dropped == {"undeliverable": 1}
        assert manager.state == "connected"
        assert manager.metrics.episodes == 0
    finally:
        await manager.disconnect()


# --- a burst ------------------------------------------------------------------------------
BURST = 10_000
#: Bounds for a loaded 2-core machine, far below the defect's 3.1-5.8 s; measured here:
#: about 0.15-0.26 s for the calls and 0.05-0.27 s for the worst block while they are
#: delivered (0.12 s with both cores busy, since sends are windowed at 256 unanswered).
MAX_CALLS_SECONDS = 2.0
MAX_LOOP_BLOCK_SECONDS = 2.0


@pytest.fixture
async def serve_process(world: Any) -> AsyncIterator[str]:
    """``ptt serve`` in its own process (its work must not count as our loop's)."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "adapters.app.cli", "serve", "--secret", world.SECRET),
        *("--port", "0", "--no-media", "--max-rps", "1000000"),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), 20.0)).decode().strip()
        assert url.startswith("ws://"), url
        yield url
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10.0)


async def test_a_burst_of_10000_is_delivered_without_stalling_the_loop(
    serve_process: str, world: Any
) -> None:
    """10,000 send_message calls in one loop: quick, all delivered, and while they go out
    the loop (watched every 5 ms) never blocks for long; the server did not cut us off as
    a slow reader."""
    options = SignalingOptions(request_timeout=20.0, ping_interval=5.0, ping_timeout=5.0)
    manager = ConnectionManager(
        serve_process,
        channel=world.CHANNEL,
        token=world.token(USER),
        media=False,
        network=False,
        backend=ReferenceBackend(options),
        log_transitions=False,
    )
    world.managers.append(manager)
    await manager.connect(wait=True, timeout=10.0)
    loop = asyncio.get_running_loop()
    worst = 0.0
    watching = True

    async def watch() -> None:
        nonlocal worst
        while watching:
            before = loop.time()
            await asyncio.sleep(0.005)
            worst = max(worst, loop.time() - before - 0.005)

    started = time.perf_counter()
    deliveries = [manager.send_message({"n": n}) for n in range(BURST)]
    calls = time.perf_counter() - started  # the loop is blocked this long by our own loop
    watcher = asyncio.create_task(watch())  # from here on, only the library runs
    async with asyncio.timeout(60.0):
        outcomes = [await d for d in deliveries]
    total = time.perf_counter() - started
    watching = False
    await watcher
    print(
        f"\nburst of {BURST}: the calls took {calls:.3f} s, all delivered after {total:.2f} s,"
        f" then the loop blocked at most {worst * 1000:.0f} ms"
    )
    assert all(o.delivered for o in outcomes), Counter(str(o.cause) for o in outcomes)
    assert calls < MAX_CALLS_SECONDS
    assert worst < MAX_LOOP_BLOCK_SECONDS
    assert manager.metrics.episodes == 0
    assert manager.state == "connected"
    assert manager.metrics.dropped == {}
