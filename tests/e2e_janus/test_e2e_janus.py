"""End to end on a real Janus 1.1 AudioBridge, through the same, unchanged machine.

``ConnectionManager(backend=JanusBackend(...))`` with aiortc media and a ``tone:HZ``
microphone; every claim about audio is proven by *sound* in the listener's tap (the mix
Janus sends it), the way ``tests/e2e/test_e2e_media.py`` proves the reference SFU. A talks
440 Hz, B 880 Hz. ``pytest -s`` prints the measured figures (also ``record_property``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from adapters.devices.audio import dominant_frequency
from adapters.devices.audio.frames import RATE
from fsm.errors import Cause
from fsm.events import ChannelChanged, ErrorRaised, Reconnected, StateChanged
from tests.e2e.test_e2e_media import is_state, until

from .conftest import WAIT, Peer, Rig

pytestmark = pytest.mark.e2e

A_HZ, B_HZ = 440.0, 550.0  # 550: in no feedback beep (those are <= 0.12 s anyway)
#: The longest hole B may hear in A's tone while A's WebSocket is reset and claimed back
#: (the PeerConnection is kept; the machine stops and restarts transmitting around it).
MAX_CLAIM_GAP = 0.1

Record = Callable[[str, object], None]


def report(record_property: Record, name: str, seconds: float) -> None:
    print(f"{name}: {seconds * 1000:.0f} ms")
    record_property(name, round(seconds, 4))


async def pair(rig: Rig, **backend: Any) -> tuple[Peer, Peer]:
    a = await rig.peer("alice", f"tone:{A_HZ:g}", **backend)
    b = await rig.peer("bob", f"tone:{B_HZ:g}", **backend)
    return a, b


async def hears(peer: Peer, freq: float, since: float, within: float = WAIT) -> float:
    """When ``peer`` began to hear a sustained ``freq`` after ``since``."""
    try:
        await until(lambda: peer.tap.first_run(freq, since) is not None, within)
    except TimeoutError:
        raise AssertionError(f"{peer.name} did not hear {freq:g} Hz within {within} s") from None
    start = peer.tap.first_run(freq, since)
    assert start is not None
    return start


def heard_freq(peer: Peer, start: float, end: float) -> float:
    """The dominant frequency of what ``peer`` heard in [start, end)."""
    samples = peer.tap.heard(start, end)
    assert samples.size >= 0.2 * RATE, f"{peer.name} heard only {samples.size} samples"
    return dominant_frequency(samples)


def hears_none(peer: Peer, freq: float, start: float, end: float) -> bool:
    """No sustained run (``HEARD``) of ``freq`` began in [start, end): feedback beeps,
    at most 0.12 s long, do not count."""
    run = peer.tap.first_run(freq, start)
    return run is None or run >= end


def granted(event: ChannelChanged) -> bool:
    return event.kind == "floor_granted"


# === (a) A talks, B hears it through the mix ==========================================
async def test_a_tone_is_heard_through_the_mix(rig: Rig, record_property: Record) -> None:
    """A presses: B hears 440 Hz (the dominant frequency of its received audio); A releases:
    B hears silence again."""
    await rig.start()
    a, b = await pair(rig)
    report(record_property, "connect_a", a.connect_seconds)
    report(record_property, "connect_b", b.connect_seconds)
    pressed = time.monotonic()
    a.manager.ptt.press()
    await a.trace.wait(ChannelChanged, where=granted)
    heard_at = await hears(b, A_HZ, pressed)
    report(record_property, "press_to_b_hears", heard_at - pressed)
    await asyncio.sleep(0.6)
    assert heard_freq(b, heard_at + 0.1, heard_at + 0.6) == pytest.approx(A_HZ, abs=2.0)
    await until(lambda: b.manager.channel.speaker == a.peer_id)

    released = time.monotonic()
    a.manager.ptt.release()
    await until(lambda: b.manager.channel.speaker is None)
    await asyncio.sleep(1.0)
    assert hears_none(b, A_HZ, released + 0.5, released + 1.0), "B still hears A"
    assert hears_none(a, B_HZ, pressed, released + 1.0), "A heard B, who never talked"
    assert "reconnecting" not in a.trace.states() + b.trace.states()
    await rig.finish()


# === (b) Janus SIGKILLed and restarted while A holds the button ========================
async def test_janus_killed_and_restarted_while_a_holds(rig: Rig, record_property: Record) -> None:
    """Both recover on their own (reconnecting -> connected, a fresh session), A gets the
    floor back because the button is still held, and B hears A again."""
    janus = await rig.start()
    a, b = await pair(rig)
    a.manager.ptt.press()
    await hears(b, A_HZ, time.monotonic())
    marks = {p.name: p.trace.mark() for p in (a, b)}

    killed = time.monotonic()
    await janus.kill()
    await janus.start()
    restarted = time.monotonic()
    for peer in (a, b):
        since = marks[peer.name]
        await peer.trace.wait(StateChanged, since, is_state("reconnecting"))
        await peer.trace.wait(StateChanged, since, is_state("connected"), within=WAIT * 2)
        _, back = await peer.trace.wait(Reconnected, since)
        assert not back.resumed, "a restarted Janus resumed a session it cannot have"
    regranted, _ = await a.trace.wait(ChannelChanged, marks["alice"], granted)
    heard_at = await hears(b, A_HZ, regranted, within=WAIT * 2)
    report(record_property, "janus_restart_took", restarted - killed)
    report(record_property, "kill_to_a_regranted", regranted - killed)
    report(record_property, "kill_to_b_hears_a", heard_at - killed)
    assert a.manager.transmitting
    assert heard_freq(b, heard_at, heard_at + 0.2) == pytest.approx(A_HZ, abs=2.0)
    await rig.finish()


# === (c) A's WebSocket reset with Janus alive: claim, no media rebuild ==================
async def test_a_websocket_reset_is_claimed_without_a_media_rebuild(
    rig: Rig, record_property: Record
) -> None:
    """FaultProxy reset of A's WebSocket: A resumes (claim), keeps its PeerConnection, and
    B's gap in A's tone stays under MAX_CLAIM_GAP."""
    await rig.start()
    a, b = await pair(rig)
    a.manager.ptt.press()
    heard_at = await hears(b, A_HZ, time.monotonic())
    await asyncio.sleep(1.0)
    pc = a.media.pc
    mark = a.trace.mark()
    baseline, _ = b.tap.longest_gap(A_HZ, heard_at + 0.2, time.monotonic())

    reset_at = time.monotonic()
    a.proxy.reset_now()
    back_at, back = await a.trace.wait(Reconnected, mark)
    regranted, _ = await a.trace.wait(ChannelChanged, mark, granted)
    await asyncio.sleep(1.5)
    gap, gap_at = b.tap.longest_gap(A_HZ, reset_at - 0.5, time.monotonic())
    report(record_property, "claim_reset_to_reconnected", back_at - reset_at)
    report(record_property, "claim_reset_to_regranted", regranted - reset_at)
    report(record_property, "claim_gap_at_b", gap)
    report(record_property, "claim_gap_baseline", baseline)
    assert back.resumed, "the claim did not resume the session"
    assert a.media.pc is pc, "the media was rebuilt although the session was claimed"
    assert "reconnecting" not in b.trace.states()
    assert gap < MAX_CLAIM_GAP, f"B heard a {gap * 1000:.0f} ms hole at {gap_at - reset_at:+.3f} s"
    await rig.finish()


# === (d) A and B press at the same moment ==============================================
def floor_ended(event: ChannelChanged) -> bool:
    return event.kind in ("floor_denied", "floor_lost")


async def test_simultaneous_presses_leave_exactly_one_heard(
    rig: Rig, record_property: Record
) -> None:
    """Both press in the same loop turn: exactly one keeps transmitting and is heard; the
    other ends with the floor denied or lost to the collision, and is not heard."""
    await rig.start()
    a, b = await pair(rig)
    marks = {p.name: p.trace.mark() for p in (a, b)}
    pressed = time.monotonic()
    a.manager.ptt.press()
    b.manager.ptt.press()

    def settled() -> bool:
        return sum(p.manager.transmitting for p in (a, b)) == 1 and any(
            p.trace.find(ChannelChanged, marks[p.name], floor_ended) for p in (a, b)
        )

    await until(settled)
    settled_at = time.monotonic()
    winner, loser = (a, b) if a.manager.transmitting else (b, a)
    found = loser.trace.find(ChannelChanged, marks[loser.name], floor_ended)
    assert found is not None
    _, ended = found
    print(
        f"collision: {winner.name} (id {winner.peer_id}) kept the floor, {loser.name} "
        f"(id {loser.peer_id}) got {ended.kind}({ended.data.get('reason')})"
    )
    report(record_property, "collision_settled", settled_at - pressed)
    assert ended.data.get("reason") == "collision"
    if ended.kind == "floor_lost":  # both were granted: the lowest participant id keeps it
        assert int(winner.peer_id) < int(loser.peer_id)
    winner_hz, loser_hz = (A_HZ, B_HZ) if winner is a else (B_HZ, A_HZ)
    heard_at = await hears(loser, winner_hz, settled_at)
    await asyncio.sleep(1.5)
    assert heard_freq(loser, heard_at + 0.2, heard_at + 1.0) == pytest.approx(winner_hz, abs=2.0)
    assert hears_none(winner, loser_hz, settled_at + 0.5, time.monotonic()), "both are heard"
    assert winner.manager.transmitting
    assert not loser.manager.transmitting
    await until(lambda: loser.manager.channel.speaker == winner.peer_id)
    await rig.finish()


# === (e) a session kept past a short session_timeout ====================================
async def test_keepalive_holds_a_session_past_a_short_session_timeout(rig: Rig) -> None:
    """session_timeout 6 s, keepalive every 2 s: idle for 10 s, still connected, no
    reconnect, and the floor still works."""
    await rig.start(session_timeout=6)
    a, b = await pair(rig)
    await asyncio.sleep(10.0)
    for peer in (a, b):
        assert "reconnecting" not in peer.trace.states(), f"{peer.name} lost its session"
        assert peer.manager.state == "connected"
    pressed = time.monotonic()
    a.manager.ptt.press()
    await hears(b, A_HZ, pressed)
    await rig.finish()


# === (f) a bad token ===================================================================
async def test_a_bad_token_ends_in_error_after_exactly_one_refresh(rig: Rig) -> None:
    """token_auth: the first token is refused (403, AUTH_INVALID), the provider is asked
    once, its token is refused too, and the machine ends in ``error``."""
    janus = await rig.start(token_auth=True)
    await janus.add_token("the-only-good-token")
    calls: list[float] = []

    async def provider() -> str:
        calls.append(time.monotonic())
        return "still-not-a-good-token"

    a = await rig.peer(
        "alice", f"tone:{A_HZ:g}", token="not-a-good-token", token_provider=provider, wait=False
    )
    await a.trace.wait(StateChanged, where=is_state("error"), within=WAIT)
    await asyncio.sleep(1.0)  # nothing more happens: no retry, no second refresh
    assert len(calls) == 1
    assert a.manager.state == "error"
    assert "connected" not in a.trace.states()
    found = a.trace.find(ErrorRaised)
    assert found is not None
    print(f"bad token: error {found[1].reason!r} after {len(calls)} refresh")
    error = a.manager.machine.last_error
    assert getattr(error, "cause", None) is Cause.AUTH_INVALID, repr(error)
    await rig.finish()


# === (g) the client-side max talk time ==================================================
async def test_the_machine_ends_a_transmission_at_max_talk_time(
    rig: Rig, record_property: Record
) -> None:
    """max_talk_time 1.5 s: the machine's own talk_time_up ends the transmission while the
    button is still held, and B stops hearing A."""
    await rig.start()
    a, b = await pair(rig, max_talk_time=1.5)
    mark = a.trace.mark()
    a.manager.ptt.press()
    granted_at, _ = await a.trace.wait(ChannelChanged, mark, granted)
    await hears(b, A_HZ, granted_at)
    lost_at, lost = await a.trace.wait(
        ChannelChanged, mark, lambda e: e.kind == "floor_lost", within=1.5 + WAIT
    )
    report(record_property, "granted_to_talk_time_up", lost_at - granted_at)
    assert lost.data.get("reason") == "max_talk_time"
    assert [t for t in a.transitions.times("talk_time_up") if t >= granted_at], (
        "the floor ended without the machine's talk_time_up transition"
    )
    assert 1.4 <= lost_at - granted_at <= 1.5 + WAIT
    assert not a.manager.transmitting
    await until(lambda: b.manager.channel.speaker is None)
    await asyncio.sleep(1.5)
    assert hears_none(b, A_HZ, lost_at + 0.5, time.monotonic()), "B still hears A"
    await rig.finish()
