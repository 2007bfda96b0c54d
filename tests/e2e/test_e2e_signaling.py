"""End to end: a real ``ConnectionManager`` (signaling only), the real reference server and
the fault proxy between them, all on loopback. Each test starts its own server and proxy,
injects one kind of fault, and checks the machine's state sequence, attempt numbers and
delays, and what the server saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from adapters.backends.reference import protocol
from fsm.errors import Cause, ConnectRefused, ConnectTimeout, KeepaliveTimeout, LinkError
from fsm.events import ChannelChanged, ErrorRaised, Reconnected

pytestmark = pytest.mark.e2e

USER = "alice"
RESET = "signaling link dropped without a close frame"  # how a TCP reset reads


def now() -> float:
    return asyncio.get_running_loop().time()


def requests(server: Any, user: str = USER) -> list[str]:
    """The methods the server accepted from ``user``, in order, without keepalive pings."""
    return [m for m in server.stats.methods(user) if m != protocol.PING]


def numbers(server: Any, user: str = USER) -> list[Any]:
    """The ``n`` of every message the server relayed for ``user``, in order."""
    return [d.get("n") for d in server.stats.delivered[user]]


def reconnected(trace: Any, since: int = 0) -> list[Reconnected]:
    return [e for e in trace.events[since:] if isinstance(e, Reconnected)]


def running_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if not t.done()}


# --- 1. connection reset ------------------------------------------------------------------
@pytest.mark.parametrize(("grace", "resumed"), [(5.0, True), (0.0, False)], ids=["resume", "fresh"])
async def test_reset_rejoins_and_releases_queued_messages_once_in_order(
    world: Any, grace: float, resumed: bool
) -> None:
    await world.start(grace=grace)
    manager, trace = await world.connected(schedule=(0.3,))
    server = world.server
    session = manager.machine.channel.resume_id
    assert isinstance(session, str)
    first_join = server.stats.requests[USER][0]
    assert first_join.method == "join"
    assert "session_id" not in first_join.data
    mark = len(trace.events)

    world.proxy.reset_now()
    # Sent before the client noticed: in flight on a dead socket, so never confirmed.
    manager.send_message({"n": 0})
    await trace.reach("reconnecting", "backing_off", since=mark)
    for n in range(1, 5):
        manager.send_message({"n": n})  # queued while reconnecting
    assert requests(server) == ["join"]  # nothing got through while the link was down

    await trace.reach("connected", since=mark)
    await world.eventually(lambda: len(server.stats.delivered[USER]) >= 5)
    await world.steady(lambda: len(server.stats.messages(USER)), 0.3)

    assert trace.states(mark) == ["reconnecting", "connected"]
    assert trace.details(mark) == ["backing_off", "redialing", "restoring", "ready"]
    [retry] = trace.retries(mark)
    assert (retry.attempt, retry.delay, retry.cause) == (1, 0.3, RESET)
    [back] = reconnected(trace, mark)
    assert back.attempts == 1
    assert back.resumed is resumed
    assert server.stats.handshakes == {"ok": 2}

    # The channel was joined again, with the old session id; the server resumed it or not.
    methods = requests(server)
    assert methods == ["join", "join"] + ["message"] * 5, methods
    rejoin = [r for r in server.stats.requests[USER] if r.method == "join"][1]
    # ... and the last message number it received there (none: nobody else wrote).
    assert rejoin.data == {"channel": world.CHANNEL, "session_id": session, "last_seq": 0}
    assert (manager.machine.channel.resume_id == session) is resumed

    # Delivered once each, in order, all after the rejoin.
    assert numbers(server) == [0, 1, 2, 3, 4]
    assert [d["n"] for d in server.stats.messages(USER)] == [0, 1, 2, 3, 4]
    ids = [d["msg_id"] for d in server.stats.delivered[USER]]
    assert len(set(ids)) == 5
    assert manager.metrics.dropped.get("overflow", 0) == 0
    assert manager.state == "connected"


# --- 2. blackhole -------------------------------------------------------------------------
async def test_blackhole_is_detected_by_keepalive_and_recovers_when_path_returns(
    started: Any,
) -> None:
    world = started
    manager, trace = await world.connected()
    await asyncio.sleep(0.4)  # a keepalive round trip or so on a working path
    assert manager.state == "connected"
    mark = len(trace.events)

    world.proxy.blackhole()
    cut = now()
    lost = await trace.reach("reconnecting", since=mark, within=3.0)
    detection = lost.at - cut
    budget = world.QUICK["ping_interval"] + world.QUICK["ping_timeout"]
    print(f"\nblackhole detected after {detection:.3f} s (ping_interval + ping_timeout = {budget})")
    assert 0.1 <= detection <= budget + 0.5  # not at once (no RST), and within the budget
    assert isinstance(manager.machine.last_error, KeepaliveTimeout) or (
        isinstance(manager.machine.last_error, LinkError)
        and manager.machine.last_error.code == 1006
        and manager.machine.last_error.cause is Cause.TRANSIENT
    )

    # Still blackholed: the redial hangs in the handshake until open_timeout.
    second = await trace.retry(2, since=mark, within=4.0)
    assert isinstance(manager.machine.last_error, ConnectTimeout)
    assert second.delay == world.SCHEDULE[1]
    assert world.server.stats.handshakes == {"ok": 1}

    world.proxy.pass_through()
    await trace.reach("connected", since=mark, within=4.0)
    assert trace.states(mark) == ["reconnecting", "connected"]
    assert [(r.attempt, r.delay) for r in trace.retries(mark)] == [(1, 0.1), (2, 0.2)]
    assert trace.details(mark) == [
        "backing_off",
        "redialing",
        "backing_off",
        "redialing",
        "restoring",
        "ready",
    ]
    assert world.server.stats.handshakes == {"ok": 2}
    # The old, silent sockets are gone on both sides once the path is back.
    await world.eventually(lambda: world.proxy.live == 1)
    await world.eventually(lambda: world.server.links(USER) == 1)
    manager.send_message({"n": 1})
    await world.eventually(lambda: numbers(world.server) == [1])


# --- 3. server restart, kick --------------------------------------------------------------
async def test_server_restart_on_the_same_port_reconnects(started: Any) -> None:
    world = started
    manager, trace = await world.connected()
    old = world.server
    mark = len(trace.events)

    new = await world.restart_server()
    assert new.port == old.port
    assert new is not old
    await trace.reach("connected", since=mark)

    first = trace.retries(mark)[0]
    assert first.attempt == 1
    assert "1001" in first.cause  # going away: the server said so, then vanished
    assert trace.states(mark) == ["reconnecting", "connected"]
    attempts = [r.attempt for r in trace.retries(mark)]
    assert attempts == list(range(1, len(attempts) + 1))
    [back] = reconnected(trace, mark)
    assert back.resumed is False  # a new server knows no session
    assert old.stats.handshakes == {"ok": 1}
    assert new.stats.handshakes == {"ok": 1}
    assert requests(new) == ["join"]
    assert "session_id" in new.stats.requests[USER][0].data  # asked to resume, got a new one
    manager.send_message({"n": 7})
    await world.eventually(lambda: numbers(new) == [7])


@pytest.mark.parametrize("how", ["kick", "delete_channel"])
async def test_final_goodbye_disconnects_and_never_retries(started: Any, how: str) -> None:
    world = started
    manager, trace = await world.connected()
    mark = len(trace.events)

    if how == "kick":
        assert await world.server.kick(USER) == 1
    else:
        assert await world.server.delete_channel(world.CHANNEL) == 1
    change = await trace.reach("disconnected", since=mark)
    assert change.reason is not None
    assert change.reason.startswith("server ended the session")
    error = manager.machine.last_error
    assert isinstance(error, LinkError)
    code = protocol.CLOSE_KICKED if how == "kick" else protocol.CLOSE_CHANNEL_DELETED
    assert error.code == code
    assert error.cause is (Cause.KICKED if how == "kick" else Cause.CHANNEL_GONE)

    # Longer than the whole backoff schedule: no connect, no handshake, no state change.
    window = sum(world.SCHEDULE) + 0.3
    await world.steady(lambda: (world.handshakes(), world.proxy.connections), window)
    assert trace.states(mark) == ["disconnected"]
    assert trace.retries(mark) == []
    assert world.server.stats.handshakes == {"ok": 1}
    assert manager.machine.pending_timers() == ()
    await world.eventually(lambda: world.proxy.live == 0 and world.server.links() == 0)


# --- 4. authentication --------------------------------------------------------------------
class Provider:
    """A token provider that counts its calls."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(0)
        return self.token


async def test_401_without_provider_is_an_error_after_one_attempt(started: Any) -> None:
    world = started
    bad = world.token(secret="another-secret-" + "x" * 32)
    manager, trace = world.client(token=bad)
    await manager.connect()
    await trace.reach("error")
    assert trace.details() == ["dialing", "error"]
    [raised] = trace.of(ErrorRaised)
    assert "log in again" in raised.guidance
    await world.steady(lambda: (world.handshakes(), world.proxy.connections), 0.6)
    assert world.server.stats.handshakes == {"401": 1}
    assert world.proxy.connections == 1
    assert trace.retries() == []


async def test_401_with_provider_refreshes_once_then_connects(started: Any) -> None:
    world = started
    provider = Provider(world.token())
    bad = world.token(secret="another-secret-" + "x" * 32)
    manager, trace = world.client(token=bad, token_provider=provider)
    await manager.connect()
    await trace.reach("connected")
    assert trace.details() == ["dialing", "authenticating", "dialing", "establishing", "ready"]
    assert provider.calls == 1
    assert world.server.stats.handshakes == {"401": 1, "ok": 1}
    assert requests(world.server) == ["join"]
    assert trace.retries() == []


async def test_401_with_provider_of_bad_tokens_is_an_error_after_two(started: Any) -> None:
    world = started
    bad = world.token(secret="another-secret-" + "x" * 32)
    provider = Provider(world.token(secret="yet-another-secret-" + "y" * 32))
    manager, trace = world.client(token=bad, token_provider=provider)
    await manager.connect()
    await trace.reach("error")
    assert trace.details() == ["dialing", "authenticating", "dialing", "error"]
    await world.steady(lambda: (world.handshakes(), world.proxy.connections), 0.6)
    assert provider.calls == 1
    assert world.server.stats.handshakes == {"401": 2}
    assert manager.state == "error"


async def test_403_token_for_another_channel_is_an_error(started: Any) -> None:
    world = started
    provider = Provider(world.token())
    manager, trace = world.client(token=world.token(channel="other"), token_provider=provider)
    await manager.connect()
    await trace.reach("error")
    assert trace.details() == ["dialing", "error"]
    error = manager.machine.last_error
    assert isinstance(error, LinkError)
    assert error.status == 403
    [raised] = trace.of(ErrorRaised)
    assert "access" in raised.guidance
    await world.steady(lambda: (world.handshakes(), world.proxy.connections), 0.6)
    assert world.server.stats.handshakes == {"403": 1}
    assert provider.calls == 0  # 403 is not an auth failure: no refresh


# --- 5. Retry-After and refused connects --------------------------------------------------
async def test_503_retry_after_is_a_floor_on_the_delay(started: Any) -> None:
    """A 503 with Retry-After: the next wait is the server's, and it is not an escalating
    attempt (a shedding server must not push a whole fleet up the backoff)."""
    world = started
    manager, trace = await world.connected(schedule=(0.05,))
    mark = len(trace.events)
    world.server.reject_next(1, status=503, retry_after=0.6)
    world.proxy.reset_now()
    await trace.reach("connected", since=mark, within=4.0)

    assert [(r.attempt, r.delay) for r in trace.retries(mark)] == [(1, 0.05), (1, 0.6)]
    assert trace.details(mark) == [
        "backing_off",
        "redialing",
        "backing_off",
        "redialing",
        "restoring",
        "ready",
    ]
    redials = [c for c in trace.changes(mark) if c.detail == "redialing"]
    waits = [c for c in trace.changes(mark) if c.detail == "backing_off"]
    gap = redials[1].at - redials[0].at
    print(f"\nhandshakes {gap:.3f} s apart after a 503 with Retry-After: 0.6")
    assert redials[1].at - waits[1].at >= 0.6
    assert gap >= 0.6
    error = manager.machine.last_error
    assert isinstance(error, LinkError)
    assert (error.status, error.retry_after) == (503, 0.6)
    assert world.server.stats.handshakes == {"ok": 2, "503": 1}


async def test_refused_connects_follow_the_schedule(started: Any) -> None:
    world = started
    manager, trace = await world.connected()
    mark = len(trace.events)
    world.proxy.reset_now()
    world.proxy.refuse()
    accepted = world.proxy.connections

    third = await trace.retry(3, since=mark)
    world.proxy.pass_through()  # before attempt 3's 0.4 s wait is over
    await trace.reach("connected", since=mark)

    assert third.delay == 0.4
    assert isinstance(manager.machine.last_error, ConnectRefused)
    assert [(r.attempt, r.delay) for r in trace.retries(mark)] == [(1, 0.1), (2, 0.2), (3, 0.4)]
    causes = [r.cause for r in trace.retries(mark)]
    assert causes == [RESET, "connection refused", "connection refused"]
    redials = [c.at for c in trace.changes(mark) if c.detail == "redialing"]
    waits = [c.at for c in trace.changes(mark) if c.detail == "backing_off"]
    assert len(redials) == 3
    for wait, redial, delay in zip(waits, redials, world.SCHEDULE, strict=True):
        assert redial - wait >= delay
    [back] = reconnected(trace, mark)
    assert back.attempts == 3
    assert manager.metrics.attempts == 3
    assert world.proxy.connections == accepted + 1  # refused ones never reached the proxy
    assert world.server.stats.handshakes == {"ok": 2}


# --- 6. flapping --------------------------------------------------------------------------
async def test_flapping_keeps_counting_and_resets_only_after_stable_after(started: Any) -> None:
    world = started
    stable_after = 1.0
    manager, trace = await world.connected(schedule=(0.05, 0.1, 0.15), stable_after=stable_after)
    mark = len(trace.events)
    accepted = world.proxy.connections

    # Accept then close at once: the TCP connect succeeds, the handshake never does.
    world.proxy.reset_now()
    world.proxy.flap()
    await trace.retry(5, since=mark)
    world.proxy.pass_through()
    await trace.reach("connected", since=mark)
    attempts = [r.attempt for r in trace.retries(mark)]
    assert attempts == list(range(1, len(attempts) + 1))
    assert len(attempts) >= 5
    assert world.proxy.connections - accepted >= 5  # sockets did open: no reset on those
    [back] = reconnected(trace, mark)
    assert back.attempts == len(attempts)
    assert manager.machine.attempt == len(attempts)

    # A restored session that drops before stable_after: the count goes on.
    mark = len(trace.events)
    world.proxy.reset_now()
    nxt = await trace.retry(len(attempts) + 1, since=mark)
    assert [r.attempt for r in trace.retries(mark)] == [len(attempts) + 1]
    assert nxt.delay == 0.15
    restored = await trace.reach("connected", since=mark)

    # Up for stable_after: only then is the counter back to zero.
    await world.eventually(lambda: manager.machine.attempt == 0, within=stable_after + 3.0)
    stable = now() - restored.at
    print(f"\nattempt counter reset {stable:.3f} s after the restore (stable_after={stable_after})")
    assert stable >= stable_after
    mark = len(trace.events)
    world.proxy.reset_now()
    first = await trace.retry(1, since=mark)
    assert first.delay == 0.05
    await trace.reach("connected", since=mark)
    assert [r.attempt for r in trace.retries(mark)] == [1]


# --- 7. disconnect while reconnecting -----------------------------------------------------
async def stop_cleanly(
    world: Any, manager: Any, trace: Any, before: set[Any], longest: float = 0.4
) -> None:
    """``disconnect()`` ends the connection at once and for good, leaving nothing behind."""
    mark = len(trace.events)
    started = now()
    await asyncio.wait_for(manager.disconnect(), 3.0)
    took = now() - started
    assert manager.state == "disconnected"
    assert [c.state for c in trace.changes(mark)] == ["disconnected"]
    assert took < 1.5, f"disconnect() took {took:.3f} s"
    assert manager.machine.pending_timers() == ()
    # disconnect() returns once the client's sockets and tasks are gone.
    assert world.client_sockets() == 0, "disconnect() returned with a socket open"
    assert world.client_tasks() == [], "disconnect() returned with client tasks running"
    if world.proxy.mode == "blackhole":
        # The proxy swallowed the client's FIN and holds its end open: end the blackhole
        # (it resets what it kept), and a leaked attempt would now get through.
        world.proxy.pass_through()
    # Longer than the schedule's longest wait: no further connect, no handshake.
    window = longest + 0.5
    await world.steady(lambda: (world.handshakes(), world.proxy.connections), window)
    assert trace.states(mark) == ["disconnected"]
    await world.eventually(lambda: world.proxy.live == 0)
    await world.eventually(lambda: world.server.links() == 0)
    mine = asyncio.current_task()
    try:
        await world.eventually(lambda: not (running_tasks() - before - {mine}))
    except TimeoutError:
        left = running_tasks() - before - {mine}
        raise AssertionError(f"tasks left behind: {left}") from None


async def test_disconnect_while_backing_off(started: Any) -> None:
    world = started
    before = running_tasks()
    manager, trace = await world.connected(schedule=(0.6,))
    mark = len(trace.events)
    world.proxy.reset_now()
    await trace.reach("reconnecting", "backing_off", since=mark)
    await stop_cleanly(world, manager, trace, before, longest=0.6)
    assert trace.changes(mark)[-1].previous == "reconnecting"
    assert trace.details(mark) == ["backing_off", "disconnected"]
    assert world.server.stats.handshakes == {"ok": 1}


async def test_disconnect_while_dialing_a_blackholed_server(started: Any) -> None:
    world = started
    before = running_tasks()
    world.proxy.blackhole()
    manager, trace = world.client()
    await manager.connect()
    await world.eventually(lambda: world.proxy.connections == 1)  # TCP up, handshake hangs
    await asyncio.sleep(0.1)
    assert manager.detail == "dialing"
    await stop_cleanly(world, manager, trace, before)
    assert trace.details() == ["dialing", "disconnected"]
    assert world.server.stats.handshakes == {}


async def test_disconnect_while_restoring_over_a_slow_path(started: Any) -> None:
    world = started
    before = running_tasks()
    manager, trace = await world.connected(ping_interval=2.0, ping_timeout=2.0)
    mark = len(trace.events)
    world.proxy.reset_now()
    world.proxy.latency(0.3)  # every byte arrives 0.3 s late: the join takes 0.6 s
    await trace.reach("reconnecting", "restoring", since=mark, within=4.0)
    assert manager.machine.step is not None
    assert manager.machine.step.value == "join"
    await stop_cleanly(world, manager, trace, before)
    assert trace.details(mark) == ["backing_off", "redialing", "restoring", "disconnected"]
    assert world.server.stats.handshakes == {"ok": 2}
    # The goodbye went out behind the join: the server saw the channel left.
    await world.eventually(lambda: requests(world.server)[-2:] == ["join", "leave"])


# --- 8. the outbound queue during an outage -----------------------------------------------
# The restore releases the outbox in paced batches, so the reference server's default
# rate limit (50 requests/s, burst 50) does not reject any of the 100 queued messages.
@pytest.mark.parametrize(
    "max_rps",
    [
        pytest.param(50, id="server-default-rate"),
        pytest.param(1000, id="rate-limit-out-of-the-way"),
    ],
)
async def test_outage_queue_keeps_the_newest_100_messages(world: Any, max_rps: float) -> None:
    await world.start(max_rps=max_rps)
    manager, trace = await world.connected()
    mark = len(trace.events)
    world.proxy.reset_now()
    world.proxy.refuse()
    await trace.reach("reconnecting", since=mark)
    for n in range(150):
        manager.send_message({"n": n})
    assert manager.metrics.dropped == {"overflow": 50}
    world.proxy.pass_through()
    await trace.reach("connected", since=mark)
    with contextlib.suppress(TimeoutError):  # the assertions below say what is missing
        await world.eventually(lambda: len(world.server.stats.delivered[USER]) >= 100, 3.0)
    await world.steady(lambda: len(world.server.stats.messages(USER)), 0.3)

    assert numbers(world.server) == list(range(50, 150))
    assert [d["n"] for d in world.server.stats.messages(USER)] == list(range(50, 150))
    methods = requests(world.server)
    assert methods == ["join", "join"] + ["message"] * 100
    assert manager.metrics.dropped == {"overflow": 50}


async def test_ptt_queued_more_than_2s_ago_is_not_sent(started: Any) -> None:
    world = started
    manager, trace = await world.connected()
    mark = len(trace.events)
    world.proxy.reset_now()
    world.proxy.refuse()  # retries fail fast until the path is back
    await trace.reach("reconnecting", since=mark)
    manager.ptt.press()
    manager.ptt.release()
    pressed = now()
    manager.send_message({"n": "after"})  # proof that the queue was released
    await asyncio.sleep(max(0.0, pressed + 2.2 - now()))
    world.proxy.pass_through()  # the next retry lands more than 2.1 s after the press
    await trace.reach("connected", since=mark)
    await world.eventually(lambda: numbers(world.server) == ["after"])
    await world.steady(lambda: requests(world.server), 0.3)

    [back] = reconnected(trace, mark)
    assert back.downtime > 2.1
    methods = requests(world.server)
    assert protocol.PTT_START not in methods
    assert protocol.PTT_STOP not in methods
    assert methods == ["join", "join", "message"]
    assert manager.metrics.dropped.get("stale") == 2  # the start and its stop
    assert manager.metrics.dropped.get("orphan_stop", 0) == 0
    assert not manager.ptt.held
    assert not manager.transmitting


async def test_ptt_queued_just_now_is_sent_after_the_restore(started: Any) -> None:
    """The control for the test above: a fresh start/stop pair does go out, in order."""
    world = started
    manager, trace = await world.connected()
    mark = len(trace.events)
    world.proxy.reset_now()
    await trace.reach("reconnecting", since=mark)
    manager.ptt.press()
    manager.ptt.release()
    await trace.reach("connected", since=mark)
    await world.eventually(lambda: protocol.PTT_STOP in requests(world.server))
    assert requests(world.server) == ["join", "join", protocol.PTT_START, protocol.PTT_STOP]
    start, stop = [r.data for r in world.server.stats.requests[USER] if r.method.startswith("ptt")]
    assert start["tx_id"] == stop["tx_id"]
    assert manager.metrics.dropped.get("stale", 0) == 0


# --- 9. hostile server frames -------------------------------------------------------------
# The reference backend counts every frame it drops: a bad envelope in the link, and (since
# notifications are decoded into domain facts at the backend's boundary) a notification
# with a malformed payload ("bad_notification") or a method it does not know
# ("unknown_notification").
WITNESS = {"notification": True, "method": protocol.PEER_JOINED, "data": {"peer_id": "p-w"}}


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        pytest.param("{not json", "invalid_json", id="invalid-json"),
        pytest.param("[1, 2, 3]", "not_an_object", id="json-array"),
        pytest.param(b"\x00\x01binary", "binary_frame", id="binary"),
        pytest.param(
            json.dumps({"id": 9999, "ok": True, "data": {}}), "unknown_id", id="unknown-id"
        ),
        pytest.param(
            json.dumps({"notification": True, "method": protocol.PEER_JOINED, "data": [1]}),
            "bad_notification",
            id="notification-list-data",
        ),
        pytest.param(
            json.dumps({"notification": True, "method": "speakerChanged", "data": {"peer_id": 7}}),
            "bad_notification",
            id="speaker-changed-bad-peer",
        ),
        pytest.param(
            json.dumps({"notification": True, "method": "newProducer", "data": {"producer_id": 5}}),
            "bad_notification",
            id="new-producer-bad-id",
        ),
        pytest.param(
            json.dumps({"notification": True, "method": "floorGranted", "data": {"tx_id": 3}}),
            "unknown_notification",
            id="floor-granted-unasked",
        ),
        pytest.param(
            json.dumps({"notification": True, "method": "noSuchThing", "data": {}}),
            "unknown_notification",
            id="unknown-notification",
        ),
    ],
)
async def test_malformed_frames_are_survived(started: Any, frame: str | bytes, why: str) -> None:
    world = started
    manager, trace = await world.connected()
    signaling = manager.machine.ports.signaling
    mark = len(trace.events)
    assert world.server.send_raw(USER, frame) == 1
    # Frames are handled in order: once the witness is seen, the bad frame was too.
    assert world.server.send_raw(USER, json.dumps(WITNESS)) == 1

    def witnessed() -> bool:
        return any(
            isinstance(e, ChannelChanged) and e.data.get("peer_id") == "p-w"
            for e in trace.events[mark:]
        )

    await trace.until(witnessed)
    assert "p-w" in manager.channel.members
    assert signaling.dropped == {why: 1}
    assert manager.state == "connected"
    assert trace.changes(mark) == []

    manager.send_message({"n": 1})
    await world.eventually(lambda: numbers(world.server) == [1])
    await asyncio.sleep(0.1)
    assert manager.state == "connected"
    assert trace.changes(mark) == []
    assert world.server.stats.handshakes == {"ok": 1}


async def test_oversize_frame_closes_the_link_and_the_client_reconnects(started: Any) -> None:
    world = started
    manager, trace = await world.connected(max_size=4096)
    mark = len(trace.events)
    big = {"notification": True, "method": "message", "data": {"pad": "x" * 8000}}
    assert world.server.send_raw(USER, json.dumps(big)) == 1
    await trace.reach("connected", since=mark)
    assert trace.states(mark) == ["reconnecting", "connected"]
    assert trace.details(mark) == ["backing_off", "redialing", "restoring", "ready"]
    [retry] = trace.retries(mark)
    assert retry.attempt == 1
    print(f"\noversize frame: {retry.cause}")
    assert "1009" in retry.cause
    assert world.server.stats.handshakes == {"ok": 2}
    manager.send_message({"n": 2})
    await world.eventually(lambda: numbers(world.server) == [2])
